/*
 * test_proto.c - unit tests for proto/: framing, skim, encoders, decoders.
 *
 * Bad messages are written in a small text notation (see dsl_value) that
 * is packed with msgpack-c, so each rejection case is one readable table
 * row: the message, the decoder, and the exact enum proto_err expected.
 * Every valid message is also fed back truncated at every length.
 * Records are built in calloc'd arrays so struct padding is zero and
 * whole records compare with memcmp.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "proto.h"

/* Which decoder a table row goes through. */
enum dec {
	DEC_ENVELOPE,
	DEC_HELLO = PROTO_HELLO,
	DEC_WELCOME = PROTO_WELCOME,
	DEC_BATCH = PROTO_BATCH,
	DEC_ACK = PROTO_ACK,
	DEC_ERROR = PROTO_ERROR,
	DEC_STATUS = PROTO_STATUS,
	DEC_STATUS_REPLY = PROTO_STATUS_REPLY,
};

struct bad_case {
	const char	*name;
	enum dec	 dec;
	const char	*msg;		/* dsl text, or NULL: use hex */
	const char	*hex;
	enum proto_err	 want;
};

static void	dsl_value(const char **, msgpack_sbuffer *);
static void	dsl_body(const char *, msgpack_sbuffer *);
static size_t	hex_body(const char *, uint8_t *, size_t);
static enum proto_err decode_as(enum dec, const uint8_t *, size_t);
static void	run_cases(enum proto_err);
static struct proto_batch *batch_new(size_t);
static void	batch_free(struct proto_batch *);
static void	batch_assert_equal(const struct proto_batch *,
		    const struct proto_batch *);
static void	hello_fill(struct proto_hello *, int big);
static const uint8_t *frame_body(const struct proto_buf *, size_t off,
		    size_t *len);
static void	truncations(enum dec, const uint8_t *, size_t);
static void	stream_rest(struct proto_batch_enc *,
		    const struct proto_batch *, int);
static void	addr_fill(struct proto_addr *, uint8_t family);
static size_t	dsl_addr(char *, size_t, uint8_t family);

/* A valid payload of each type, to build variations from. */
#define HELLO_OK	"{name:\"web1\",ifaces:[\"eth0\",\"eth1\"],res:60," \
			"start:1700000000}"
#define REC_HOST	"[0,1700000040,b4,6,1,10,2000,2140]"
#define REC_PORT	"[1,1700000040,b16,17,0,53,1,80,94]"
#define REC_PEER	"[0,1700000040,b4,6,0,b4,3,300,342]"
#define REC_IFACE	"[0,1700000040,10,2000,7,2,1,0,0]"
#define REC_HEALTH	"[0,1700000040,10,0,0,0,0,1,0]"
#define BATCH_HEAD	"first:1700000000,last:1700000059"
#define STATUS_HEAD	"time:1700000100,start:1700000000,db_bytes:4096," \
			"queued:0,pending:1,batches:9,duplicates:0,rejected:2"
#define STATUS_AGENT	"[\"web1\",1700000001,1700000099,9,40,3,0,0,1]"
#define STATUS_OK	"{" STATUS_HEAD ",agents:[" STATUS_AGENT "]}"

/*
 * Rejections, one row per way to be wrong.  Rows with PROTO_OK prove the
 * notation builds what the neighbouring rows mean, so a rejection is due
 * to the one defect named and not to a typo elsewhere.
 */
static const struct bad_case bad_cases[] = {
	/* Baselines. */
	{ "hello ok", DEC_HELLO, "[1,1,0," HELLO_OK "]", NULL, PROTO_OK },
	{ "welcome ok", DEC_WELCOME, "[1,2,0,{last_seq:0}]", NULL, PROTO_OK },
	{ "ack ok", DEC_ACK, "[1,4,7,{}]", NULL, PROTO_OK },
	{ "error ok", DEC_ERROR, "[1,5,0,{code:4,text:\"\"}]", NULL,
	    PROTO_OK },
	{ "batch ok", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:[" REC_HOST
	    "],ports:[" REC_PORT "],peers:[" REC_PEER "],ifaces:[" REC_IFACE
	    "],health:[" REC_HEALTH "]}]", NULL, PROTO_OK },
	{ "batch no sections", DEC_BATCH, "[1,3,1,{" BATCH_HEAD "}]", NULL,
	    PROTO_OK },
	{ "batch empty sections", DEC_BATCH, "[1,3,1,{" BATCH_HEAD
	    ",hosts:[],health:[]}]", NULL, PROTO_OK },
	{ "batch overflow rows", DEC_BATCH, "[1,3,1,{" BATCH_HEAD
	    ",hosts:[[0,0,b0,0,0,1,1,1]],peers:[[0,0,b16,6,1,b0,1,1,1],"
	    "[0,0,b0,6,1,b4,1,1,1]]}]", NULL, PROTO_OK },
	{ "batch max values", DEC_BATCH, "[1,3,18446744073709551615,"
	    "{first:0,last:9223372036854775807,ports:[[63,"
	    "9223372036854775807,b16,255,1,65535,18446744073709551615,"
	    "18446744073709551615,18446744073709551615]]}]", NULL, PROTO_OK },
	{ "unknown keys hello", DEC_HELLO, "[1,1,0,{name:\"a\",zz:[1,{q:n}],"
	    "ifaces:[\"e\"],res:1,start:0,v2:f,x:b3}]", NULL, PROTO_OK },
	{ "unknown keys welcome", DEC_WELCOME, "[1,2,0,{last_seq:5,more:t}]",
	    NULL, PROTO_OK },
	{ "unknown keys ack", DEC_ACK, "[1,4,1,{seq:1,why:\"x\"}]", NULL,
	    PROTO_OK },
	{ "unknown keys error", DEC_ERROR, "[1,5,0,{code:1,text:\"t\","
	    "detail:{}}]", NULL, PROTO_OK },
	{ "unknown keys batch", DEC_BATCH, "[1,3,1,{" BATCH_HEAD
	    ",flows:[[1,2,3]],hosts:[" REC_HOST "]}]", NULL, PROTO_OK },
	{ "depth 8 ok", DEC_WELCOME, "[1,2,0,{last_seq:1,x:[[[[[[]]]]]]}]",
	    NULL, PROTO_OK },
	{ "envelope any type", DEC_ENVELOPE, "[1,4,9,{}]", NULL, PROTO_OK },
	{ "status ok", DEC_STATUS, "[1,6,0,{}]", NULL, PROTO_OK },
	{ "status unknown keys", DEC_STATUS, "[1,6,0,{who:\"me\"}]", NULL,
	    PROTO_OK },
	{ "status reply ok", DEC_STATUS_REPLY, "[1,7,0," STATUS_OK "]", NULL,
	    PROTO_OK },
	{ "status reply no agents", DEC_STATUS_REPLY, "[1,7,0,{" STATUS_HEAD
	    ",agents:[]}]", NULL, PROTO_OK },
	{ "status reply wal_bytes", DEC_STATUS_REPLY, "[1,7,0,{" STATUS_HEAD
	    ",wal_bytes:4096,agents:[]}]", NULL, PROTO_OK },
	{ "status reply wal_bytes over db_bytes", DEC_STATUS_REPLY,
	    "[1,7,0,{" STATUS_HEAD ",wal_bytes:4097,agents:[]}]", NULL,
	    PROTO_E_RANGE },
	{ "status reply wal_bytes str", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",wal_bytes:\"1\",agents:[]}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "status seq 1", DEC_STATUS, "[1,6,1,{}]", NULL, PROTO_E_RANGE },
	{ "status reply agents missing", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD "}]", NULL, PROTO_E_MISSING },
	{ "status reply agents not array", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:{}}]", NULL, PROTO_E_FIELD_TYPE },
	{ "status reply agent arity", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:[[\"a\",1,1,1,1,1,1,1]]}]", NULL,
	    PROTO_E_ARITY },
	{ "status reply agent not array", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:[\"a\"]}]", NULL, PROTO_E_FIELD_TYPE },
	{ "status reply empty name", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:[[\"\",1,1,1,1,1,1,1,1]]}]", NULL,
	    PROTO_E_RANGE },
	{ "status reply negative time", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:[[\"a\",-1,1,1,1,1,1,1,1]]}]", NULL,
	    PROTO_E_RANGE },
	{ "status reply counter str", DEC_STATUS_REPLY, "[1,7,0,{"
	    STATUS_HEAD ",agents:[[\"a\",1,1,1,\"1\",1,1,1,1]]}]", NULL,
	    PROTO_E_FIELD_TYPE },

	/* PROTO_E_SHORT */
	{ "empty body", DEC_ENVELOPE, NULL, "", PROTO_E_SHORT },
	{ "array missing elements", DEC_HELLO, NULL, "940101cd00",
	    PROTO_E_SHORT },
	{ "str past end", DEC_ERROR, NULL, "94010500 82a4636f646501a474657874"
	    "a5616263", PROTO_E_SHORT },
	{ "str8 past end", DEC_ENVELOPE, NULL, "d9ff41", PROTO_E_SHORT },
	{ "bin32 past end", DEC_ENVELOPE, NULL, "c6ffffffff00",
	    PROTO_E_SHORT },
	{ "ext past end", DEC_ENVELOPE, NULL, "c70501ab", PROTO_E_SHORT },
	{ "fixext past end", DEC_ENVELOPE, NULL, "d80100", PROTO_E_SHORT },
	{ "uint64 cut", DEC_ENVELOPE, NULL, "cf0001", PROTO_E_SHORT },
	{ "float64 cut", DEC_ENVELOPE, NULL, "cb3ff0", PROTO_E_SHORT },
	{ "array16 header cut", DEC_ENVELOPE, NULL, "dc00", PROTO_E_SHORT },

	/* PROTO_E_MSGPACK */
	{ "0xc1 root", DEC_ENVELOPE, NULL, "c1", PROTO_E_MSGPACK },
	{ "0xc1 in payload", DEC_WELCOME, NULL, "94010200 81a86c6173745f736571"
	    "c1", PROTO_E_MSGPACK },

	/* PROTO_E_TRAILING */
	{ "byte after message", DEC_ACK, NULL, "940104 01 80 00",
	    PROTO_E_TRAILING },
	{ "two messages", DEC_ENVELOPE, NULL, "9401040180 9401040180",
	    PROTO_E_TRAILING },

	/* PROTO_E_DEPTH */
	{ "depth 9", DEC_WELCOME, "[1,2,0,{last_seq:1,x:[[[[[[[]]]]]]]}]",
	    NULL, PROTO_E_DEPTH },
	{ "depth 9 maps", DEC_ENVELOPE,
	    "[1,2,0,{a:{a:{a:{a:{a:{a:{a:{}}}}}}}}]", NULL, PROTO_E_DEPTH },
	{ "depth 100", DEC_ENVELOPE, NULL,
	    "91919191919191919191919191919191919191919191919191",
	    PROTO_E_DEPTH },

	/* PROTO_E_COUNT: skim must refuse these before msgpack-c allocates. */
	{ "array32 4G in 5 bytes", DEC_BATCH, NULL, "ddffffffff",
	    PROTO_E_COUNT },
	{ "map32 4G in 5 bytes", DEC_BATCH, NULL, "dfffffffff",
	    PROTO_E_COUNT },
	{ "array16 too long", DEC_ENVELOPE, NULL, "dc00030102",
	    PROTO_E_COUNT },
	{ "fixmap 15 in 20", DEC_ENVELOPE, NULL,
	    "8f0102030405060708090a0b0c0d0e0f10111213", PROTO_E_COUNT },
	{ "inner array32 huge", DEC_BATCH, NULL, "94010301 81a5686f737473"
	    "ddfffffff0", PROTO_E_COUNT },
	{ "records array32 huge", DEC_BATCH, NULL, "94010301 82a5686f737473"
	    "91dd7fffffff01a56669727374", PROTO_E_COUNT },

	/* PROTO_E_ENVELOPE */
	{ "root is map", DEC_ENVELOPE, "{a:1}", NULL, PROTO_E_ENVELOPE },
	{ "root is int", DEC_ENVELOPE, "1", NULL, PROTO_E_ENVELOPE },
	{ "three elements", DEC_HELLO, "[1,1,0]", NULL, PROTO_E_ENVELOPE },
	{ "five elements", DEC_ACK, "[1,4,1,{},1]", NULL, PROTO_E_ENVELOPE },
	{ "version str", DEC_ACK, "[\"1\",4,1,{}]", NULL, PROTO_E_ENVELOPE },
	{ "type str", DEC_ACK, "[1,\"4\",1,{}]", NULL, PROTO_E_ENVELOPE },
	{ "seq negative", DEC_ACK, "[1,4,-1,{}]", NULL, PROTO_E_ENVELOPE },
	{ "seq nil", DEC_WELCOME, "[1,2,n,{last_seq:1}]", NULL,
	    PROTO_E_ENVELOPE },
	{ "payload array", DEC_WELCOME, "[1,2,0,[1]]", NULL,
	    PROTO_E_ENVELOPE },
	{ "payload nil", DEC_ACK, "[1,4,1,n]", NULL, PROTO_E_ENVELOPE },

	/* PROTO_E_VERSION */
	{ "version 0", DEC_ENVELOPE, "[0,4,1,{}]", NULL, PROTO_E_VERSION },
	{ "version 2", DEC_HELLO, "[2,1,0," HELLO_OK "]", NULL,
	    PROTO_E_VERSION },
	{ "version 2^32+1", DEC_ACK, "[4294967297,4,1,{}]", NULL,
	    PROTO_E_VERSION },

	/* PROTO_E_TYPE */
	{ "type 0", DEC_ENVELOPE, "[1,0,0,{}]", NULL, PROTO_E_TYPE },
	{ "type 8", DEC_ENVELOPE, "[1,8,0,{}]", NULL, PROTO_E_TYPE },
	{ "status as reply", DEC_STATUS_REPLY, "[1,6,0,{}]", NULL,
	    PROTO_E_TYPE },
	{ "reply as status", DEC_STATUS, "[1,7,0," STATUS_OK "]", NULL,
	    PROTO_E_TYPE },
	{ "type 2^32+3", DEC_ENVELOPE, "[1,4294967299,1,{}]", NULL,
	    PROTO_E_TYPE },
	{ "welcome as hello", DEC_HELLO, "[1,2,0,{last_seq:1}]", NULL,
	    PROTO_E_TYPE },
	{ "ack as batch", DEC_BATCH, "[1,4,1,{}]", NULL, PROTO_E_TYPE },
	{ "hello as welcome", DEC_WELCOME, "[1,1,0," HELLO_OK "]", NULL,
	    PROTO_E_TYPE },
	{ "batch as ack", DEC_ACK, "[1,3,1,{" BATCH_HEAD "}]", NULL,
	    PROTO_E_TYPE },
	{ "ack as error", DEC_ERROR, "[1,4,1,{}]", NULL, PROTO_E_TYPE },

	/* PROTO_E_FIELD_TYPE */
	{ "name int", DEC_HELLO, "[1,1,0,{name:5,ifaces:[\"e\"],res:1,"
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "name bin", DEC_HELLO, "[1,1,0,{name:b4,ifaces:[\"e\"],res:1,"
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "ifaces str", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:\"e\",res:1,"
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "iface int", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\",3],res:1,"
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "res str", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],res:\"1\","
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "res float", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],res:f,"
	    "start:0}]", NULL, PROTO_E_FIELD_TYPE },
	{ "start nil", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],res:1,"
	    "start:n}]", NULL, PROTO_E_FIELD_TYPE },
	{ "last_seq bool", DEC_WELCOME, "[1,2,0,{last_seq:t}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "code str", DEC_ERROR, "[1,5,0,{code:\"1\",text:\"\"}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "text int", DEC_ERROR, "[1,5,0,{code:1,text:1}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "text bin", DEC_ERROR, "[1,5,0,{code:1,text:b2}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "first str", DEC_BATCH, "[1,3,1,{first:\"0\",last:1}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "last float", DEC_BATCH, "[1,3,1,{first:0,last:f}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "hosts map", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:{}}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "record int", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ports:[5]}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "addr str", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,\"1234\",6,1,1,1,1]]}]", NULL, PROTO_E_FIELD_TYPE },
	{ "peer addr int", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",peers:"
	    "[[0,0,b4,6,1,7,1,1,1]]}]", NULL, PROTO_E_FIELD_TYPE },
	{ "iface str", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ifaces:"
	    "[[\"eth0\",0,1,1,1,1,1,1,1]]}]", NULL, PROTO_E_FIELD_TYPE },
	{ "counter float", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",health:"
	    "[[0,0,1,1,f,1,1,1,1]]}]", NULL, PROTO_E_FIELD_TYPE },
	{ "int map key", DEC_WELCOME, "[1,2,0,{last_seq:1,7:1}]", NULL,
	    PROTO_E_FIELD_TYPE },
	{ "duplicate key", DEC_WELCOME, "[1,2,0,{last_seq:1,last_seq:2}]",
	    NULL, PROTO_E_FIELD_TYPE },
	{ "duplicate section", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:[],"
	    "hosts:[]}]", NULL, PROTO_E_FIELD_TYPE },

	/* PROTO_E_MISSING */
	{ "hello no name", DEC_HELLO, "[1,1,0,{ifaces:[\"e\"],res:1,start:0}]",
	    NULL, PROTO_E_MISSING },
	{ "hello no ifaces", DEC_HELLO, "[1,1,0,{name:\"a\",res:1,start:0}]",
	    NULL, PROTO_E_MISSING },
	{ "hello no res", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "start:0}]", NULL, PROTO_E_MISSING },
	{ "hello no start", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "res:1}]", NULL, PROTO_E_MISSING },
	{ "welcome empty", DEC_WELCOME, "[1,2,0,{}]", NULL, PROTO_E_MISSING },
	{ "welcome misspelt", DEC_WELCOME, "[1,2,0,{last_se:1}]", NULL,
	    PROTO_E_MISSING },
	{ "error no code", DEC_ERROR, "[1,5,0,{text:\"\"}]", NULL,
	    PROTO_E_MISSING },
	{ "error no text", DEC_ERROR, "[1,5,0,{code:1}]", NULL,
	    PROTO_E_MISSING },
	{ "batch no first", DEC_BATCH, "[1,3,1,{last:1,hosts:[]}]", NULL,
	    PROTO_E_MISSING },
	{ "batch no last", DEC_BATCH, "[1,3,1,{first:1}]", NULL,
	    PROTO_E_MISSING },

	/* PROTO_E_RANGE */
	{ "hello seq 1", DEC_HELLO, "[1,1,1," HELLO_OK "]", NULL,
	    PROTO_E_RANGE },
	{ "welcome seq 1", DEC_WELCOME, "[1,2,1,{last_seq:1}]", NULL,
	    PROTO_E_RANGE },
	{ "error seq 1", DEC_ERROR, "[1,5,1,{code:1,text:\"\"}]", NULL,
	    PROTO_E_RANGE },
	{ "ack seq 0", DEC_ACK, "[1,4,0,{}]", NULL, PROTO_E_RANGE },
	{ "batch seq 0", DEC_BATCH, "[1,3,0,{" BATCH_HEAD "}]", NULL,
	    PROTO_E_RANGE },
	{ "name empty", DEC_HELLO, "[1,1,0,{name:\"\",ifaces:[\"e\"],res:1,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "name 129", DEC_HELLO, "[1,1,0,{name:s129,ifaces:[\"e\"],res:1,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "name NUL", DEC_HELLO, "[1,1,0,{name:\"a\\x00b\",ifaces:[\"e\"],"
	    "res:1,start:0}]", NULL, PROTO_E_RANGE },
	{ "name newline", DEC_HELLO, "[1,1,0,{name:\"a\\x0ab\",ifaces:[\"e\"],"
	    "res:1,start:0}]", NULL, PROTO_E_RANGE },
	{ "name DEL", DEC_HELLO, "[1,1,0,{name:\"a\\x7f\",ifaces:[\"e\"],"
	    "res:1,start:0}]", NULL, PROTO_E_RANGE },
	{ "iface 0x1f", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"\\x1f\"],"
	    "res:1,start:0}]", NULL, PROTO_E_RANGE },
	{ "iface empty", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"\"],res:1,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "iface 65", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[s65],res:1,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "ifaces none", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[],res:1,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "ifaces duplicate", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\","
	    "\"f\",\"e\"],res:1,start:0}]", NULL, PROTO_E_RANGE },
	{ "res 0", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],res:0,"
	    "start:0}]", NULL, PROTO_E_RANGE },
	{ "res 86401", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "res:86401,start:0}]", NULL, PROTO_E_RANGE },
	{ "res negative", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "res:-60,start:0}]", NULL, PROTO_E_RANGE },
	{ "start negative", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "res:1,start:-1}]", NULL, PROTO_E_RANGE },
	{ "start over int64", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:[\"e\"],"
	    "res:1,start:9223372036854775808}]", NULL, PROTO_E_RANGE },
	{ "last_seq negative", DEC_WELCOME, "[1,2,0,{last_seq:-1}]", NULL,
	    PROTO_E_RANGE },
	{ "code 0", DEC_ERROR, "[1,5,0,{code:0,text:\"\"}]", NULL,
	    PROTO_E_RANGE },
	{ "code 2^32", DEC_ERROR, "[1,5,0,{code:4294967296,text:\"\"}]", NULL,
	    PROTO_E_RANGE },
	{ "text 513", DEC_ERROR, "[1,5,0,{code:1,text:s513}]", NULL,
	    PROTO_E_RANGE },
	{ "text NUL", DEC_ERROR, "[1,5,0,{code:1,text:\"a\\x00\"}]", NULL,
	    PROTO_E_RANGE },
	{ "first negative", DEC_BATCH, "[1,3,1,{first:-5,last:1}]", NULL,
	    PROTO_E_RANGE },
	{ "first after last", DEC_BATCH, "[1,3,1,{first:2,last:1}]", NULL,
	    PROTO_E_RANGE },
	{ "iface 64", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[64,0,b4,6,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "iface negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ifaces:"
	    "[[-1,0,1,1,1,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "bucket negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",health:"
	    "[[0,-60,1,1,1,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "addr 5 bytes", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b5,6,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "addr 1 byte", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b1,6,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "peer addr 6 bytes", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",peers:"
	    "[[0,0,b4,6,1,b6,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "peer family differs", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",peers:"
	    "[[0,0,b4,6,1,b16,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "dir 2", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b4,6,2,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "proto 256", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b4,256,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "port 65536", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ports:"
	    "[[0,0,b4,6,1,65536,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "packets negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b4,6,1,-1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "bytes negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",peers:"
	    "[[0,0,b4,6,1,b4,1,-9223372036854775808,1]]}]", NULL,
	    PROTO_E_RANGE },
	{ "frames negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ifaces:"
	    "[[0,0,-1,1,1,1,1,1,1]]}]", NULL, PROTO_E_RANGE },
	{ "dropped negative", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",health:"
	    "[[0,0,1,1,1,1,1,1,-3]]}]", NULL, PROTO_E_RANGE },

	/* PROTO_E_ARITY */
	{ "host 7", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b4,6,1,1,1]]}]", NULL, PROTO_E_ARITY },
	{ "host 9", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:"
	    "[[0,0,b4,6,1,1,1,1,1]]}]", NULL, PROTO_E_ARITY },
	{ "port 8", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ports:"
	    "[[0,0,b4,6,1,1,1,1]]}]", NULL, PROTO_E_ARITY },
	{ "peer 10", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",peers:"
	    "[[0,0,b4,6,1,b4,1,1,1,1]]}]", NULL, PROTO_E_ARITY },
	{ "iface 0", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",ifaces:[[]]}]", NULL,
	    PROTO_E_ARITY },
	{ "health 8", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",health:"
	    "[[0,0,1,1,1,1,1,1]]}]", NULL, PROTO_E_ARITY },
	{ "second record bad", DEC_BATCH, "[1,3,1,{" BATCH_HEAD ",hosts:["
	    REC_HOST ",[0]]}]", NULL, PROTO_E_ARITY },

	/* PROTO_E_TOO_MANY (records: see test_e_too_many) */
	{ "ifaces 65", DEC_HELLO, "[1,1,0,{name:\"a\",ifaces:["
	    "\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\","
	    "\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\","
	    "\"w\",\"x\",\"y\",\"z\",\"A\",\"B\",\"C\",\"D\",\"E\",\"F\",\"G\","
	    "\"H\",\"I\",\"J\",\"K\",\"L\",\"M\",\"N\",\"O\",\"P\",\"Q\",\"R\","
	    "\"S\",\"T\",\"U\",\"V\",\"W\",\"X\",\"Y\",\"Z\",\"0\",\"1\",\"2\","
	    "\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"_\",\"-\",\".\"],"
	    "res:1,start:0}]", NULL, PROTO_E_TOO_MANY },
};

/*
 * The notation: numbers (with -), "strings" with \xHH escapes, sN a
 * string of N 'a's, bN a bin of N bytes, f a float, n nil, t true,
 * [a,b] arrays, {key:v} maps whose keys are bare words (digits: an
 * integer key).  Any syntax error fails the test.
 */
static void
dsl_value(const char **sp, msgpack_sbuffer *out)
{
	msgpack_sbuffer tmp;
	msgpack_packer pk;
	const char *s = *sp;
	char str[1024], *end;
	size_t n, i;
	unsigned int x;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	if (*s == '[' || *s == '{') {
		char close = *s == '[' ? ']' : '}';
		int map = *s == '{';

		msgpack_sbuffer_init(&tmp);
		n = 0;
		s++;
		while (*s != close) {
			if (map) {
				msgpack_packer kp;
				size_t kl = strcspn(s, ":");

				assert_true(kl > 0 && s[kl] == ':');
				msgpack_packer_init(&kp, &tmp,
				    msgpack_sbuffer_write);
				if (isdigit((unsigned char)*s))
					msgpack_pack_uint64(&kp,
					    strtoull(s, NULL, 10));
				else
					msgpack_pack_str_with_body(&kp, s, kl);
				s += kl + 1;
			}
			dsl_value(&s, &tmp);
			n++;
			if (*s == ',')
				s++;
			else
				assert_true(*s == close);
		}
		s++;
		if (map)
			msgpack_pack_map(&pk, n);
		else
			msgpack_pack_array(&pk, n);
		msgpack_sbuffer_write(out, tmp.data, tmp.size);
		msgpack_sbuffer_destroy(&tmp);
	} else if (*s == '"') {
		n = 0;
		for (s++; *s != '"'; s++) {
			assert_true(*s != '\0' && n < sizeof(str));
			if (*s == '\\') {
				assert_int_equal(sscanf(s, "\\x%2x", &x), 1);
				str[n++] = (char)x;
				s += 3;
			} else
				str[n++] = *s;
		}
		s++;
		msgpack_pack_str_with_body(&pk, str, n);
	} else if (*s == 's' || *s == 'b') {
		char kind = *s;

		n = strtoul(s + 1, &end, 10);
		assert_true(end > s + 1 && n <= sizeof(str));
		for (i = 0; i < n; i++)
			str[i] = kind == 's' ? 'a' : (char)(i * 7 + 1);
		if (kind == 's')
			msgpack_pack_str_with_body(&pk, str, n);
		else
			msgpack_pack_bin_with_body(&pk, str, n);
		s = end;
	} else if (*s == 'f') {
		msgpack_pack_double(&pk, 1.5);
		s++;
	} else if (*s == 'n') {
		msgpack_pack_nil(&pk);
		s++;
	} else if (*s == 't') {
		msgpack_pack_true(&pk);
		s++;
	} else if (*s == '-') {
		msgpack_pack_int64(&pk, strtoll(s, &end, 10));
		assert_true(end > s + 1);
		s = end;
	} else {
		msgpack_pack_uint64(&pk, strtoull(s, &end, 10));
		assert_true(end > s);
		s = end;
	}
	*sp = s;
}

static void
dsl_body(const char *text, msgpack_sbuffer *out)
{
	msgpack_sbuffer_init(out);
	dsl_value(&text, out);
	assert_int_equal(*text, '\0');
}

/* Hex digits, spaces ignored, into p; returns the byte count. */
static size_t
hex_body(const char *hex, uint8_t *p, size_t max)
{
	size_t n = 0;
	unsigned int x;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < max);
		assert_int_equal(sscanf(hex, "%2x", &x), 1);
		p[n++] = (uint8_t)x;
		hex += 2;
	}
	return n;
}

static enum proto_err
decode_as(enum dec dec, const uint8_t *p, size_t len)
{
	struct proto_hello h;
	struct proto_welcome w;
	struct proto_ack a;
	struct proto_error e;
	struct proto_batch b;
	uint32_t version, type;
	uint64_t seq;
	enum proto_err err;
	/* 60 KiB: on the heap, and only when needed. */
	struct proto_status *st = NULL;

	if (dec == DEC_STATUS_REPLY)
		assert_non_null(st = malloc(sizeof(*st)));
	switch (dec) {
	case DEC_ENVELOPE:
		return proto_decode_envelope(p, len, &version, &type, &seq);
	case DEC_HELLO:
		return proto_decode_hello(p, len, &h);
	case DEC_WELCOME:
		return proto_decode_welcome(p, len, &w);
	case DEC_ACK:
		return proto_decode_ack(p, len, &a);
	case DEC_ERROR:
		return proto_decode_error(p, len, &e);
	case DEC_STATUS:
		return proto_decode_status(p, len);
	case DEC_STATUS_REPLY:
		err = proto_decode_status_reply(p, len, st);
		free(st);
		return err;
	case DEC_BATCH:
		err = proto_decode_batch(p, len, &b);
		/* A failed decode must leave nothing to free. */
		if (err != PROTO_OK)
			assert_null(b.hosts);
		proto_batch_clear(&b);
		return err;
	}
	fail();
	return PROTO_E__COUNT;
}

/* Runs every table row expecting want; there must be at least one. */
static void
run_cases(enum proto_err want)
{
	msgpack_sbuffer sb;
	uint8_t raw[256];
	const uint8_t *p;
	enum proto_err got;
	size_t i, len, nrun = 0;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		if (c->want != want)
			continue;
		msgpack_sbuffer_init(&sb);
		if (c->msg != NULL) {
			dsl_body(c->msg, &sb);
			p = (const uint8_t *)sb.data;
			len = sb.size;
		} else {
			len = hex_body(c->hex, raw, sizeof(raw));
			p = raw;
		}
		got = decode_as(c->dec, p, len);
		if (got != want) {
			print_error("case \"%s\": got %d (%s), want %d (%s)\n",
			    c->name, got, proto_strerror(got), want,
			    proto_strerror(want));
			msgpack_sbuffer_destroy(&sb);
			fail();
		}
		/* Skim alone must find what is skim's to find. */
		if (want >= PROTO_E_SHORT && want <= PROTO_E_COUNT &&
		    want != PROTO_E_TOO_BIG)
			assert_int_equal(proto_skim(p, len), want);
		/* Decoders agree with the envelope peek on early errors. */
		if (want <= PROTO_E_VERSION && want != PROTO_OK)
			assert_int_equal(decode_as(DEC_ENVELOPE, p, len), want);
		msgpack_sbuffer_destroy(&sb);
		nrun++;
	}
	assert_true(nrun > 0);
}

static struct proto_batch *
batch_new(size_t n)
{
	static const uint8_t fam[] = { PROTO_AF_INET, PROTO_AF_INET6,
	    PROTO_AF_NONE };
	static const uint8_t ipproto[] = { 6, 17, 1, 58, 0, 255 };
	struct proto_batch *b;
	size_t i, j;

	assert_non_null(b = calloc(1, sizeof(*b)));
	b->seq = 42;
	b->first_ts = 1700000000;
	b->last_ts = 1700000059;
	b->nhosts = b->nports = b->npeers = b->nifaces = b->nhealth = n;
	if (n == 0)
		return b;
	assert_non_null(b->hosts = calloc(n, sizeof(*b->hosts)));
	assert_non_null(b->ports = calloc(n, sizeof(*b->ports)));
	assert_non_null(b->peers = calloc(n, sizeof(*b->peers)));
	assert_non_null(b->ifaces = calloc(n, sizeof(*b->ifaces)));
	assert_non_null(b->health = calloc(n, sizeof(*b->health)));
	for (i = 0; i < n; i++) {
		struct proto_key k;
		struct proto_count c;

		memset(&k, 0, sizeof(k));
		k.iface = i % PROTO_IFACES_MAX;
		k.bucket = 1700000000 + 60 * (int64_t)(i % 7);
		k.host.family = fam[i % 3];
		for (j = 0; j < (size_t)(k.host.family == PROTO_AF_INET ? 4 :
		    k.host.family == PROTO_AF_INET6 ? 16 : 0); j++)
			k.host.a[j] = (uint8_t)(i * 31 + j + 1);
		k.proto = ipproto[i % 6];
		k.dir = i % 2;
		/* Magnitudes that need every msgpack integer width. */
		c.packets = i;
		c.bytes = (uint64_t)1 << (i % 64);
		c.frame_bytes = UINT64_MAX - i;

		b->hosts[i].k = k;
		b->hosts[i].c = c;
		b->ports[i].k = k;
		b->ports[i].port = (uint16_t)(i * 4099);
		b->ports[i].c = c;
		b->peers[i].k = k;
		b->peers[i].peer = k.host;
		b->peers[i].peer.a[0] ^= 0xff;
		if (k.host.family == PROTO_AF_NONE)
			b->peers[i].peer.a[0] = 0;
		b->peers[i].c = c;
		b->ifaces[i].iface = k.iface;
		b->ifaces[i].bucket = k.bucket;
		b->ifaces[i].frames = i + 1;
		b->ifaces[i].frame_bytes = c.bytes;
		b->ifaces[i].ipv4_packets = 70000;
		b->ifaces[i].ipv6_packets = 5000000000ULL;
		b->ifaces[i].non_ip_frames = 200;
		b->ifaces[i].transit_packets = 3;
		b->ifaces[i].malformed_frames = c.frame_bytes;
		b->health[i].iface = k.iface;
		b->health[i].bucket = k.bucket;
		b->health[i].captured = i * 1000;
		b->health[i].kernel_drops = i;
		b->health[i].iface_drops = 1;
		b->health[i].overflow = 65536;
		b->health[i].malformed = 255;
		b->health[i].queued = 256;
		b->health[i].dropped = UINT64_MAX;
	}
	return b;
}

static void
batch_free(struct proto_batch *b)
{
	proto_batch_clear(b);
	free(b);
}

static void
batch_assert_equal(const struct proto_batch *x, const struct proto_batch *y)
{
	assert_int_equal(x->seq, y->seq);
	assert_int_equal(x->first_ts, y->first_ts);
	assert_int_equal(x->last_ts, y->last_ts);
	assert_int_equal(x->nhosts, y->nhosts);
	assert_int_equal(x->nports, y->nports);
	assert_int_equal(x->npeers, y->npeers);
	assert_int_equal(x->nifaces, y->nifaces);
	assert_int_equal(x->nhealth, y->nhealth);
	if (x->nhosts > 0)
		assert_memory_equal(x->hosts, y->hosts,
		    x->nhosts * sizeof(*x->hosts));
	if (x->nports > 0)
		assert_memory_equal(x->ports, y->ports,
		    x->nports * sizeof(*x->ports));
	if (x->npeers > 0)
		assert_memory_equal(x->peers, y->peers,
		    x->npeers * sizeof(*x->peers));
	if (x->nifaces > 0)
		assert_memory_equal(x->ifaces, y->ifaces,
		    x->nifaces * sizeof(*x->ifaces));
	if (x->nhealth > 0)
		assert_memory_equal(x->health, y->health,
		    x->nhealth * sizeof(*x->health));
}

static void
hello_fill(struct proto_hello *h, int big)
{
	uint32_t i;

	memset(h, 0, sizeof(*h));
	h->version = PROTO_VERSION;
	h->resolution = big ? PROTO_RES_MAX : 60;
	h->start_time = big ? INT64_MAX : 1700000000;
	if (!big) {
		strcpy(h->name, "web1.example");
		h->niface = 2;
		strcpy(h->iface[0], "eth0");
		strcpy(h->iface[1], "wlp3s0");
		return;
	}
	memset(h->name, 'n', PROTO_NAME_MAX);
	/* UTF-8 is fine: only control characters are refused. */
	h->name[0] = (char)0xc3;
	h->name[1] = (char)0xa9;
	h->niface = PROTO_IFACES_MAX;
	for (i = 0; i < PROTO_IFACES_MAX; i++) {
		memset(h->iface[i], 'i', PROTO_IFNAME_MAX);
		snprintf(h->iface[i], PROTO_IFNAME_MAX, "if%u", i);
		h->iface[i][strlen(h->iface[i])] = 'i';
	}
}

/* The body of the frame at off in b, checked by proto_frame_check. */
static const uint8_t *
frame_body(const struct proto_buf *b, size_t off, size_t *len)
{
	assert_true(off < b->len);
	assert_int_equal(proto_frame_check(b->data + off, b->len - off,
	    PROTO_FRAME_MAX, len), PROTO_OK);
	return b->data + off + PROTO_HDR_LEN;
}

/* A valid body cut at every shorter length is refused, without a crash. */
static void
truncations(enum dec dec, const uint8_t *p, size_t len)
{
	enum proto_err err;
	uint8_t *copy;
	size_t n;

	assert_int_equal(decode_as(dec, p, len), PROTO_OK);
	for (n = 0; n < len; n++) {
		/* An exact-size heap copy lets ASan see any over-read. */
		assert_non_null(copy = malloc(n == 0 ? 1 : n));
		memcpy(copy, p, n);
		err = decode_as(dec, copy, n);
		if (err != PROTO_E_SHORT && err != PROTO_E_COUNT) {
			print_error("cut at %zu of %zu: %s\n", n, len,
			    proto_strerror(err));
			free(copy);
			fail();
		}
		assert_int_equal(decode_as(DEC_ENVELOPE, copy, n), err);
		free(copy);
	}
}

static void
test_round_trip_hello(void **state)
{
	struct proto_hello in, out;
	struct proto_buf b;
	const uint8_t *body;
	size_t len;
	uint32_t version, type;
	uint64_t seq;
	int big;

	(void)state;
	for (big = 0; big <= 1; big++) {
		hello_fill(&in, big);
		proto_buf_init(&b);
		assert_int_equal(proto_encode_hello(&b, &in), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(b.len, PROTO_HDR_LEN + len);
		assert_int_equal(proto_decode_envelope(body, len, &version,
		    &type, &seq), PROTO_OK);
		assert_int_equal(version, PROTO_VERSION);
		assert_int_equal(type, PROTO_HELLO);
		assert_int_equal(seq, 0);
		assert_int_equal(proto_peek_type(body, len), PROTO_HELLO);
		assert_int_equal(proto_decode_hello(body, len, &out), PROTO_OK);
		assert_memory_equal(&in, &out, sizeof(in));
		truncations(DEC_HELLO, body, len);
		proto_buf_clear(&b);
	}
}

static void
test_round_trip_small(void **state)
{
	static const uint64_t seqs[] = { 0, 1, 127, 128, 65536, UINT64_MAX };
	static const uint32_t codes[] = { PROTO_ERR_BAD_FRAME,
	    PROTO_ERR_REFUSED, PROTO_ERR_DUPLICATE, PROTO_ERR_SEQUENCE,
	    PROTO_ERR_INTERNAL, PROTO_ERR_SHUTDOWN, UINT32_MAX };
	struct proto_welcome w, w2;
	struct proto_ack a, a2;
	struct proto_error e, e2;
	struct proto_buf b;
	const uint8_t *body;
	size_t i, len;

	(void)state;
	proto_buf_init(&b);
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		w.last_seq = seqs[i];
		assert_int_equal(proto_encode_welcome(&b, &w), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_welcome(body, len, &w2),
		    PROTO_OK);
		assert_int_equal(w2.last_seq, seqs[i]);
		truncations(DEC_WELCOME, body, len);
		proto_buf_consume(&b, PROTO_HDR_LEN + len);
		assert_int_equal(b.len, 0);

		a.seq = seqs[i];
		if (a.seq == 0) {
			/* ACK 0 would acknowledge nothing: refused. */
			assert_int_equal(proto_encode_ack(&b, &a), -1);
			assert_int_equal(b.len, 0);
			continue;
		}
		assert_int_equal(proto_encode_ack(&b, &a), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_ack(body, len, &a2), PROTO_OK);
		assert_int_equal(a2.seq, seqs[i]);
		truncations(DEC_ACK, body, len);
		proto_buf_consume(&b, PROTO_HDR_LEN + len);
	}
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.code = codes[i];
		if (i == 1)
			memset(e.text, 'x', PROTO_TEXT_MAX);
		else if (i > 1)
			snprintf(e.text, sizeof(e.text), "error\n%zu: \xe2\x82"
			    "\xac", i);
		assert_int_equal(proto_encode_error(&b, &e), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_error(body, len, &e2), PROTO_OK);
		assert_memory_equal(&e, &e2, sizeof(e));
		truncations(DEC_ERROR, body, len);
		proto_buf_consume(&b, PROTO_HDR_LEN + len);
	}
	proto_buf_clear(&b);
}

/* STATUS and STATUS_REPLY: empty, one agent, the most agents. */
static void
test_round_trip_status(void **state)
{
	static const size_t counts[] = { 0, 1, PROTO_STATUS_AGENTS_MAX };
	struct proto_status *in, *out;
	struct proto_buf b;
	const uint8_t *body;
	size_t i, k, len;

	(void)state;
	assert_non_null(in = calloc(1, sizeof(*in)));
	assert_non_null(out = calloc(1, sizeof(*out)));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_status(&b), 0);
	body = frame_body(&b, 0, &len);
	assert_int_equal(proto_decode_status(body, len), PROTO_OK);
	truncations(DEC_STATUS, body, len);
	proto_buf_consume(&b, PROTO_HDR_LEN + len);
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		memset(in, 0, sizeof(*in));
		in->time = 1700000100;
		in->start = INT64_MAX - (int64_t)k;
		in->db_bytes = UINT64_MAX;
		/* wal_bytes is optional: sent when known, as a store does. */
		in->has_wal_bytes = k != 1;
		in->wal_bytes = k != 1 ? UINT64_MAX - 1 : 0;
		in->queued = 1u << 20;
		in->pending = 3;
		in->batches = k;
		in->rejected = 1;
		in->version = PROTO_VERSION;	/* the decoder's, from the envelope */
		in->schema = 2;
		in->nagents = (uint32_t)counts[k];
		for (i = 0; i < counts[k]; i++) {
			snprintf(in->agent[i].name, sizeof(in->agent[i].name),
			    "agent-%zu", i);
			in->agent[i].connected = 1700000000 + (int64_t)i;
			in->agent[i].last_batch = i % 2 ? 0 : 1700000050;
			in->agent[i].batches = i;
			in->agent[i].records = i * 1000;
			in->agent[i].kernel_drops = UINT64_MAX - i;
			in->agent[i].iface_drops = 7;
			in->agent[i].dropped = 1;
			in->agent[i].queued = 2;
		}
		assert_int_equal(proto_encode_status_reply(&b, in), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_status_reply(body, len, out),
		    PROTO_OK);
		assert_memory_equal(in, out, sizeof(*in));
		if (counts[k] <= 1)
			truncations(DEC_STATUS_REPLY, body, len);
		proto_buf_consume(&b, PROTO_HDR_LEN + len);
	}
	/* What a decoder refuses, the encoder will not write. */
	in->db_bytes = 10;
	in->wal_bytes = 11;
	in->has_wal_bytes = 1;
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	in->has_wal_bytes = 0;
	in->wal_bytes = 1;		/* a size not known, not sent */
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	in->wal_bytes = 0;
	in->nagents = PROTO_STATUS_AGENTS_MAX + 1;
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	in->nagents = 1;
	in->agent[0].name[0] = '\0';
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	strcpy(in->agent[0].name, "a\nb");
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	strcpy(in->agent[0].name, "a");
	in->agent[0].connected = -1;
	assert_int_equal(proto_encode_status_reply(&b, in), -1);
	assert_int_equal(b.len, 0);
	proto_buf_clear(&b);
	free(in);
	free(out);
}

static void
test_round_trip_batch(void **state)
{
	static const size_t sizes[] = { 0, 1, 3, 100 };
	struct proto_batch *in, out;
	struct proto_buf b;
	const uint8_t *body;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		in = batch_new(sizes[i]);
		proto_buf_init(&b);
		assert_int_equal(proto_encode_batch(&b, in), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_batch(body, len, &out), PROTO_OK);
		batch_assert_equal(in, &out);
		proto_batch_clear(&out);
		if (sizes[i] <= 3)
			truncations(DEC_BATCH, body, len);
		proto_buf_clear(&b);
		batch_free(in);
	}
}

/*
 * proto_peek_type names the type of a whole envelope's head and nothing
 * else, and reads no byte past the body (ASan builds).
 */
static void
test_peek_type(void **state)
{
	struct proto_batch *in;
	struct proto_buf b;
	const uint8_t *body;
	uint8_t *copy;
	size_t len, cut;

	(void)state;
	in = batch_new(3);
	proto_buf_init(&b);
	assert_int_equal(proto_encode_batch(&b, in), 0);
	body = frame_body(&b, 0, &len);
	assert_int_equal(proto_peek_type(body, len), PROTO_BATCH);
	/* A head cut short names nothing; past the type, the rest is moot. */
	for (cut = 0; cut <= 3; cut++) {
		assert_non_null(copy = malloc(cut == 0 ? 1 : cut));
		memcpy(copy, body, cut);
		assert_int_equal(proto_peek_type(copy, cut),
		    cut == 3 ? PROTO_BATCH : 0);
		free(copy);
	}
	assert_non_null(copy = malloc(len));
	memcpy(copy, body, len);
	copy[0] = 0x93;			/* an array of 3 */
	assert_int_equal(proto_peek_type(copy, len), 0);
	copy[0] = body[0];
	copy[1] = PROTO_VERSION + 1;
	assert_int_equal(proto_peek_type(copy, len), 0);
	copy[1] = body[1];
	copy[2] = 0;			/* no type 0 */
	assert_int_equal(proto_peek_type(copy, len), 0);
	copy[2] = PROTO_STATUS_REPLY + 1;
	assert_int_equal(proto_peek_type(copy, len), 0);
	copy[2] = 0xc0;			/* nil */
	assert_int_equal(proto_peek_type(copy, len), 0);
	free(copy);
	proto_buf_clear(&b);
	batch_free(in);
}

/* One section at a time: absent sections decode as empty. */
static void
test_round_trip_batch_sections(void **state)
{
	struct proto_batch *full, one, out;
	struct proto_buf b;
	const uint8_t *body;
	size_t len;
	int k;

	(void)state;
	full = batch_new(4);
	for (k = 0; k < 5; k++) {
		memset(&one, 0, sizeof(one));
		one.seq = full->seq;
		one.first_ts = one.last_ts = 5;
		switch (k) {
		case 0:
			one.nhosts = 4;
			one.hosts = full->hosts;
			break;
		case 1:
			one.nports = 4;
			one.ports = full->ports;
			break;
		case 2:
			one.npeers = 4;
			one.peers = full->peers;
			break;
		case 3:
			one.nifaces = 4;
			one.ifaces = full->ifaces;
			break;
		default:
			one.nhealth = 4;
			one.health = full->health;
			break;
		}
		proto_buf_init(&b);
		assert_int_equal(proto_encode_batch(&b, &one), 0);
		body = frame_body(&b, 0, &len);
		assert_int_equal(proto_decode_batch(body, len, &out), PROTO_OK);
		batch_assert_equal(&one, &out);
		proto_batch_clear(&out);
		proto_buf_clear(&b);
	}
	batch_free(full);
}

static void
test_stream_equals_batch(void **state)
{
	struct proto_batch *in;
	struct proto_batch_enc enc;
	struct proto_buf one, str;
	struct proto_ack ack = { 9 };
	size_t i, pre;

	(void)state;
	in = batch_new(50);
	/* An empty section in the middle is skipped by both encoders. */
	in->npeers = 0;
	proto_buf_init(&one);
	proto_buf_init(&str);
	assert_int_equal(proto_encode_batch(&one, in), 0);
	/* The streaming frame goes after a frame already in the buffer. */
	assert_int_equal(proto_encode_ack(&str, &ack), 0);
	pre = str.len;
	assert_int_equal(proto_batch_begin(&enc, &str, in), 0);
	for (i = 0; i < in->nhosts; i++)
		proto_batch_add_host(&enc, &in->hosts[i]);
	for (i = 0; i < in->nports; i++)
		proto_batch_add_port(&enc, &in->ports[i]);
	for (i = 0; i < in->nifaces; i++)
		proto_batch_add_iface(&enc, &in->ifaces[i]);
	for (i = 0; i < in->nhealth; i++)
		proto_batch_add_health(&enc, &in->health[i]);
	assert_int_equal(proto_batch_end(&enc), 0);
	assert_int_equal(str.len - pre, one.len);
	assert_memory_equal(str.data + pre, one.data, one.len);
	proto_buf_clear(&one);
	proto_buf_clear(&str);
	batch_free(in);
}

/* An address of family with the bytes the notation's bN writes. */
static void
addr_fill(struct proto_addr *a, uint8_t family)
{
	int i, n = family == PROTO_AF_INET ? 4 :
	    family == PROTO_AF_INET6 ? 16 : 0;

	memset(a, 0, sizeof(*a));
	a->family = family;
	for (i = 0; i < n; i++)
		a->a[i] = (uint8_t)(i * 7 + 1);
}

/* The notation of addr_fill's address: b0, b4 or b16. */
static size_t
dsl_addr(char *t, size_t len, uint8_t family)
{
	return (size_t)snprintf(t, len, "b%d", family == PROTO_AF_INET ? 4 :
	    family == PROTO_AF_INET6 ? 16 : 0);
}

/*
 * Records are written in msgpack's shortest encodings, byte for byte as
 * msgpack-c's packer writes them (the notation), on both sides of every
 * boundary between two encodings and for each address family.
 */
static void
test_record_bytes(void **state)
{
	static const uint64_t v[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	    4294967295ull, 4294967296ull, 9223372036854775807ull, UINT64_MAX };
	static const uint8_t fam[] = { PROTO_AF_NONE, PROTO_AF_INET,
	    PROTO_AF_INET6 };
	enum { NV = sizeof(v) / sizeof(v[0]) };
	struct proto_host_rec *h;
	struct proto_port_rec *pr;
	struct proto_peer_rec *q;
	struct proto_iface_rec *ir;
	struct proto_batch bt;
	struct proto_buf b;
	struct proto_key *k;
	msgpack_sbuffer sb;
	char text[16384], a1[8], a2[8];
	size_t n = 0, i;
	const char *sect[3] = { "hosts", "ports", "peers" };
	int s;

	(void)state;
	h = calloc(NV, sizeof(*h));
	pr = calloc(NV, sizeof(*pr));
	q = calloc(NV, sizeof(*q));
	ir = calloc(1, sizeof(*ir));
	assert_non_null(h);
	assert_non_null(pr);
	assert_non_null(q);
	assert_non_null(ir);
	memset(&bt, 0, sizeof(bt));
	bt.seq = 1;
	bt.first_ts = 0;
	bt.last_ts = 5;
	bt.hosts = h;
	bt.ports = pr;
	bt.peers = q;
	bt.ifaces = ir;
	bt.nhosts = bt.nports = bt.npeers = NV;
	bt.nifaces = 1;
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "[1,3,1,{first:0,last:5");
	for (s = 0; s < 3; s++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",%s:[",
		    sect[s]);
		for (i = 0; i < NV; i++) {
			k = s == 0 ? &h[i].k : s == 1 ? &pr[i].k : &q[i].k;
			k->iface = (uint32_t)(v[i] % PROTO_IFACES_MAX);
			k->bucket = (int64_t)(v[i] & INT64_MAX);
			addr_fill(&k->host, fam[i % 3]);
			k->proto = (uint8_t)v[i];
			k->dir = (uint8_t)(i & 1);
			dsl_addr(a1, sizeof(a1), fam[i % 3]);
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    "%s[%llu,%llu,%s,%u,%u", i > 0 ? "," : "",
			    (unsigned long long)k->iface,
			    (unsigned long long)k->bucket, a1, k->proto,
			    k->dir);
			if (s == 1) {
				pr[i].port = (uint16_t)v[i];
				n += (size_t)snprintf(text + n,
				    sizeof(text) - n, ",%u", pr[i].port);
			}
			if (s == 2) {
				/* Same family, or an overflow side. */
				addr_fill(&q[i].peer, i % 2 ? fam[i % 3] :
				    PROTO_AF_NONE);
				dsl_addr(a2, sizeof(a2), q[i].peer.family);
				n += (size_t)snprintf(text + n,
				    sizeof(text) - n, ",%s", a2);
			}
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    ",%llu,%llu,%llu]", (unsigned long long)v[i],
			    (unsigned long long)v[NV - 1 - i],
			    (unsigned long long)v[(i + 3) % NV]);
		}
		n += (size_t)snprintf(text + n, sizeof(text) - n, "]");
	}
	for (s = 0; s < (int)NV; s++) {
		h[s].c.packets = v[s];
		h[s].c.bytes = v[NV - 1 - s];
		h[s].c.frame_bytes = v[(s + 3) % NV];
		pr[s].c = h[s].c;
		q[s].c = h[s].c;
	}
	ir->iface = PROTO_IFACES_MAX - 1;
	ir->bucket = INT64_MAX;
	ir->frames = v[3];
	ir->frame_bytes = v[6];
	ir->ipv4_packets = v[7];
	ir->ipv6_packets = v[8];
	ir->non_ip_frames = v[9];
	ir->transit_packets = v[NV - 1];
	ir->malformed_frames = v[4];
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    ",ifaces:[[%d,%lld,%llu,%llu,%llu,%llu,%llu,%llu,%llu]]}]",
	    PROTO_IFACES_MAX - 1, (long long)INT64_MAX,
	    (unsigned long long)v[3], (unsigned long long)v[6],
	    (unsigned long long)v[7], (unsigned long long)v[8],
	    (unsigned long long)v[9], (unsigned long long)v[NV - 1],
	    (unsigned long long)v[4]);
	assert_true(n < sizeof(text) - 1);

	dsl_body(text, &sb);
	proto_buf_init(&b);
	assert_int_equal(proto_encode_batch(&b, &bt), 0);
	assert_int_equal(b.len - PROTO_HDR_LEN, sb.size);
	assert_memory_equal(b.data + PROTO_HDR_LEN, sb.data, sb.size);
	proto_buf_clear(&b);
	msgpack_sbuffer_destroy(&sb);
	free(h);
	free(pr);
	free(q);
	free(ir);
}

/*
 * The host, port and peer encoders check the range rules themselves
 * (pack.c): for keys at and past every bound, they write a record
 * exactly when the decoder accepts the same values in msgpack-c's bytes,
 * and then those bytes.  A family outside 0, 4 and 6, which no bytes on
 * the wire can say, is refused.
 */
static void
test_encode_rules_match_decoder(void **state)
{
	static const long long ifaces[] = { 0, PROTO_IFACES_MAX - 1,
	    PROTO_IFACES_MAX, 4294967295ll };
	static const long long buckets[] = { -1, 0, 1700000040 };
	static const unsigned dirs[] = { 0, 1, 2, 255 };
	static const uint8_t fam[] = { PROTO_AF_NONE, PROTO_AF_INET,
	    PROTO_AF_INET6 };
	const char *sect[3] = { "hosts", "ports", "peers" };
	struct proto_host_rec h;
	struct proto_port_rec pr;
	struct proto_peer_rec q;
	struct proto_batch bt, out;
	struct proto_key *k;
	struct proto_buf b;
	msgpack_sbuffer sb;
	char text[512], a1[8], a2[8];
	size_t i, j, d, f, g, n, nok = 0, nbad = 0;
	int s, enc_ok, dec_ok;

	(void)state;
	proto_buf_init(&b);
	for (s = 0; s < 3; s++)
	for (i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++)
	for (j = 0; j < sizeof(buckets) / sizeof(buckets[0]); j++)
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
	for (f = 0; f < 3; f++)
	for (g = 0; g < (s == 2 ? 3u : 1u); g++) {
		memset(&h, 0, sizeof(h));
		memset(&pr, 0, sizeof(pr));
		memset(&q, 0, sizeof(q));
		memset(&bt, 0, sizeof(bt));
		bt.seq = 1;
		bt.last_ts = 5;
		k = s == 0 ? &h.k : s == 1 ? &pr.k : &q.k;
		k->iface = (uint32_t)ifaces[i];
		k->bucket = buckets[j];
		addr_fill(&k->host, fam[f]);
		k->proto = 17;
		k->dir = (uint8_t)dirs[d];
		dsl_addr(a1, sizeof(a1), fam[f]);
		dsl_addr(a2, sizeof(a2), fam[g]);
		pr.port = 443;
		addr_fill(&q.peer, fam[g]);
		h.c.packets = pr.c.packets = q.c.packets = 3;
		h.c.bytes = pr.c.bytes = q.c.bytes = 200;
		h.c.frame_bytes = pr.c.frame_bytes = q.c.frame_bytes = 242;
		if (s == 0)
			bt.hosts = &h, bt.nhosts = 1;
		else if (s == 1)
			bt.ports = &pr, bt.nports = 1;
		else
			bt.peers = &q, bt.npeers = 1;
		n = (size_t)snprintf(text, sizeof(text),
		    "[1,3,1,{first:0,last:5,%s:[[%lld,%lld,%s,17,%u%s%s,3,200,"
		    "242]]}]", sect[s], ifaces[i], buckets[j], a1, dirs[d],
		    s == 1 ? ",443" : s == 2 ? "," : "", s == 2 ? a2 : "");
		assert_true(n < sizeof(text));
		dsl_body(text, &sb);
		memset(&out, 0, sizeof(out));
		dec_ok = proto_decode_batch((const uint8_t *)sb.data, sb.size,
		    &out) == PROTO_OK;
		proto_batch_clear(&out);
		enc_ok = proto_encode_batch(&b, &bt) == 0;
		assert_int_equal(enc_ok, dec_ok);
		if (enc_ok) {
			assert_int_equal(b.len - PROTO_HDR_LEN, sb.size);
			assert_memory_equal(b.data + PROTO_HDR_LEN, sb.data,
			    sb.size);
			nok++;
		} else {
			assert_int_equal(b.len, 0);
			nbad++;
		}
		proto_buf_clear(&b);
		msgpack_sbuffer_destroy(&sb);
	}
	/* Both answers came up, many times over. */
	assert_true(nok > 50 && nbad > 50);

	memset(&bt, 0, sizeof(bt));
	bt.seq = 1;
	memset(&h, 0, sizeof(h));
	h.k.host.family = 5;
	bt.hosts = &h;
	bt.nhosts = 1;
	assert_int_equal(proto_encode_batch(&b, &bt), -1);
	memset(&q, 0, sizeof(q));
	q.peer.family = 5;
	bt.hosts = NULL;
	bt.nhosts = 0;
	bt.peers = &q;
	bt.npeers = 1;
	assert_int_equal(proto_encode_batch(&b, &bt), -1);
	assert_int_equal(b.len, 0);
	proto_buf_clear(&b);
}

/* Adds every record of the kinds from first (1 ports ... 4 health) on. */
static void
stream_rest(struct proto_batch_enc *enc, const struct proto_batch *in,
    int first)
{
	size_t i;

	for (i = 0; first <= 1 && i < in->nports; i++)
		proto_batch_add_port(enc, &in->ports[i]);
	for (i = 0; first <= 2 && i < in->npeers; i++)
		proto_batch_add_peer(enc, &in->peers[i]);
	for (i = 0; first <= 3 && i < in->nifaces; i++)
		proto_batch_add_iface(enc, &in->ifaces[i]);
	for (i = 0; first <= 4 && i < in->nhealth; i++)
		proto_batch_add_health(enc, &in->health[i]);
}

/*
 * Misuse of the streaming encoder fails at end and leaves no partial
 * frame.  Each case completes every other section, so the one defect
 * named is the only reason to fail.
 */
static void
test_stream_misuse(void **state)
{
	struct proto_batch *in;
	struct proto_batch_enc enc;
	struct proto_buf b;
	struct proto_ack ack = { 3 };
	struct proto_host_rec bad;
	size_t pre;
	int c;

	(void)state;
	in = batch_new(2);
	proto_buf_init(&b);
	assert_int_equal(proto_encode_ack(&b, &ack), 0);
	pre = b.len;
	for (c = 0; c < 8; c++) {
		assert_int_equal(proto_batch_begin(&enc, &b, in), 0);
		bad = in->hosts[0];
		switch (c) {
		case 0:		/* baseline: the right records in order */
			proto_batch_add_host(&enc, &in->hosts[0]);
			proto_batch_add_host(&enc, &in->hosts[1]);
			stream_rest(&enc, in, 1);
			break;
		case 1:		/* too few host records */
			proto_batch_add_host(&enc, &in->hosts[0]);
			stream_rest(&enc, in, 1);
			break;
		case 2:		/* too many host records */
			proto_batch_add_host(&enc, &in->hosts[0]);
			proto_batch_add_host(&enc, &in->hosts[1]);
			proto_batch_add_host(&enc, &in->hosts[1]);
			stream_rest(&enc, in, 1);
			break;
		case 3:		/* sections interleaved: counts all match */
			proto_batch_add_host(&enc, &in->hosts[0]);
			proto_batch_add_port(&enc, &in->ports[0]);
			proto_batch_add_host(&enc, &in->hosts[1]);
			proto_batch_add_port(&enc, &in->ports[1]);
			stream_rest(&enc, in, 2);
			break;
		case 4:		/* an address family that does not exist */
			bad.k.host.family = 5;
			break;
		case 5:		/* negative bucket */
			bad.k.bucket = -1;
			break;
		case 6:		/* iface index beyond any HELLO */
			bad.k.iface = PROTO_IFACES_MAX;
			break;
		default:	/* direction neither in nor out */
			bad.k.dir = 2;
			break;
		}
		if (c >= 4) {
			proto_batch_add_host(&enc, &bad);
			proto_batch_add_host(&enc, &in->hosts[1]);
			stream_rest(&enc, in, 1);
		}
		if (c == 0) {
			assert_int_equal(proto_batch_end(&enc), 0);
			assert_true(b.len > pre);
			b.len = pre;
			continue;
		}
		assert_int_equal(proto_batch_end(&enc), -1);
		assert_int_equal(b.len, pre);
	}
	/* The buffer still holds exactly the ACK frame. */
	assert_int_equal(proto_frame_check(b.data, b.len, PROTO_FRAME_MAX,
	    &pre), PROTO_OK);
	assert_int_equal(pre + PROTO_HDR_LEN, b.len);
	proto_buf_clear(&b);
	batch_free(in);
}

/* Encoders refuse what decoders would refuse, and append nothing. */
static void
test_encode_refuses(void **state)
{
	struct proto_hello h;
	struct proto_error e;
	struct proto_batch *in;
	struct proto_batch_enc enc;
	struct proto_buf b;
	int c;

	(void)state;
	proto_buf_init(&b);
	for (c = 0; c < 9; c++) {
		hello_fill(&h, 0);
		switch (c) {
		case 0:
			h.name[0] = '\0';
			break;
		case 1:
			memset(h.name, 'x', sizeof(h.name));
			break;
		case 2:
			h.niface = 0;
			break;
		case 3:
			h.niface = PROTO_IFACES_MAX + 1;
			break;
		case 4:
			strcpy(h.iface[1], h.iface[0]);
			break;
		case 5:
			h.resolution = 0;
			break;
		case 6:
			h.resolution = PROTO_RES_MAX + 1;
			break;
		case 7:
			h.start_time = -1;
			break;
		default:
			h.name[2] = '\n';
			break;
		}
		assert_int_equal(proto_encode_hello(&b, &h), -1);
		assert_int_equal(b.len, 0);
	}
	memset(&e, 0, sizeof(e));
	assert_int_equal(proto_encode_error(&b, &e), -1);
	e.code = 1;
	memset(e.text, 'x', sizeof(e.text));
	assert_int_equal(proto_encode_error(&b, &e), -1);
	assert_int_equal(b.len, 0);

	in = batch_new(3);
	in->seq = 0;
	assert_int_equal(proto_encode_batch(&b, in), -1);
	in->seq = 1;
	in->first_ts = in->last_ts + 1;
	assert_int_equal(proto_encode_batch(&b, in), -1);
	in->first_ts = in->last_ts;
	in->peers[2].peer.family = PROTO_AF_INET6;
	in->peers[2].k.host.family = PROTO_AF_INET;
	assert_int_equal(proto_encode_batch(&b, in), -1);
	in->peers[2].k.host.family = PROTO_AF_INET6;
	in->ports[1].k.dir = 2;
	assert_int_equal(proto_encode_batch(&b, in), -1);
	in->ports[1].k.dir = 1;
	in->nhealth = PROTO_RECORDS_MAX + 1;
	assert_int_equal(proto_batch_begin(&enc, &b, in), -1);
	assert_int_equal(proto_batch_end(&enc), -1);
	assert_int_equal(b.len, 0);
	in->nhealth = 3;
	assert_int_equal(proto_encode_batch(&b, in), 0);
	proto_buf_clear(&b);
	batch_free(in);
}

/* A batch whose body would pass PROTO_FRAME_MAX is refused by the sender. */
static void
test_encode_frame_max(void **state)
{
	struct proto_batch head;
	struct proto_batch_enc enc;
	struct proto_peer_rec r;
	struct proto_buf b;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.k.host.family = r.peer.family = PROTO_AF_INET6;
	memset(r.k.host.a, 0xfe, 16);
	memset(r.peer.a, 0xfd, 16);
	r.k.bucket = INT64_MAX;
	r.c.packets = r.c.bytes = r.c.frame_bytes = UINT64_MAX;
	memset(&head, 0, sizeof(head));
	head.seq = 1;
	head.npeers = PROTO_RECORDS_MAX;
	proto_buf_init(&b);
	assert_int_equal(proto_batch_begin(&enc, &b, &head), 0);
	for (i = 0; i < PROTO_RECORDS_MAX; i++)
		proto_batch_add_peer(&enc, &r);
	assert_true(b.len > PROTO_FRAME_MAX + PROTO_HDR_LEN);
	assert_int_equal(proto_batch_end(&enc), -1);
	assert_int_equal(b.len, 0);
	proto_buf_clear(&b);
}

static void
test_frame(void **state)
{
	static const uint8_t big[] = { 0x01, 0x00, 0x00, 0x01 };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	struct proto_welcome w = { 77 };
	struct proto_ack a = { 78 };
	struct proto_buf b;
	const uint8_t *body;
	size_t len, first, n;

	(void)state;
	/* PROTO_E_TOO_BIG: judged from the header alone. */
	assert_int_equal(proto_frame_check(big, sizeof(big), PROTO_FRAME_MAX,
	    &len), PROTO_E_TOO_BIG);
	assert_int_equal(proto_frame_check(huge, sizeof(huge), SIZE_MAX,
	    &len), PROTO_E_TOO_BIG);
	assert_int_equal(proto_frame_check(big, sizeof(big), SIZE_MAX,
	    &len), PROTO_E_TOO_BIG);
	assert_int_equal(proto_frame_check(zero, sizeof(zero), 0, &len),
	    PROTO_OK);
	assert_int_equal(len, 0);
	assert_int_equal(proto_frame_check(zero, 3, 0, &len), PROTO_E_SHORT);

	proto_buf_init(&b);
	assert_int_equal(proto_encode_welcome(&b, &w), 0);
	first = b.len;
	assert_int_equal(proto_encode_ack(&b, &a), 0);
	/* A smaller limit than the frame: too big for this reader. */
	assert_int_equal(proto_frame_check(b.data, b.len, first -
	    PROTO_HDR_LEN - 1, &len), PROTO_E_TOO_BIG);
	/* Every prefix of a frame is "need more". */
	for (n = 0; n < first; n++)
		assert_int_equal(proto_frame_check(b.data, n, PROTO_FRAME_MAX,
		    &len), PROTO_E_SHORT);
	assert_int_equal(proto_frame_check(b.data, b.len, PROTO_FRAME_MAX,
	    &len), PROTO_OK);
	assert_int_equal(len + PROTO_HDR_LEN, first);
	proto_buf_consume(&b, first);
	body = frame_body(&b, 0, &len);
	assert_int_equal(proto_decode_ack(body, len, &a), PROTO_OK);
	assert_int_equal(a.seq, 78);
	proto_buf_consume(&b, SIZE_MAX);
	assert_int_equal(b.len, 0);
	proto_buf_clear(&b);
	proto_buf_clear(&b);
	proto_buf_clear(NULL);
	proto_batch_clear(NULL);
}

/* PROTO_E_TOO_MANY for records: PROTO_RECORDS_MAX + 1 minimal hosts. */
static void
test_e_too_many_records(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct proto_batch out;
	size_t i, n;

	(void)state;
	for (n = PROTO_RECORDS_MAX; n <= PROTO_RECORDS_MAX + 1; n++) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, PROTO_VERSION);
		msgpack_pack_uint8(&pk, PROTO_BATCH);
		msgpack_pack_uint8(&pk, 1);
		msgpack_pack_map(&pk, 3);
		msgpack_pack_str_with_body(&pk, "first", 5);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_str_with_body(&pk, "last", 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_str_with_body(&pk, "health", 6);
		msgpack_pack_array(&pk, n);
		for (i = 0; i < n; i++) {
			msgpack_pack_array(&pk, 9);
			msgpack_pack_uint8(&pk, 0);
			msgpack_pack_uint8(&pk, 0);
			msgpack_pack_uint8(&pk, 1);
			msgpack_pack_uint8(&pk, 2);
			msgpack_pack_uint8(&pk, 3);
			msgpack_pack_uint8(&pk, 4);
			msgpack_pack_uint8(&pk, 5);
			msgpack_pack_uint8(&pk, 6);
			msgpack_pack_uint8(&pk, 7);
		}
		assert_int_equal(proto_decode_batch((const uint8_t *)sb.data,
		    sb.size, &out), n == PROTO_RECORDS_MAX ? PROTO_OK :
		    PROTO_E_TOO_MANY);
		assert_int_equal(out.nhealth, n == PROTO_RECORDS_MAX ? n : 0);
		proto_batch_clear(&out);
		msgpack_sbuffer_destroy(&sb);
	}
}

/* Decoders zero their output on failure: nothing half-decoded leaks out. */
static void
test_output_zeroed(void **state)
{
	static const uint8_t zeros[sizeof(struct proto_hello)];
	msgpack_sbuffer sb;
	struct proto_hello h;
	struct proto_batch bt;

	(void)state;
	dsl_body("[1,1,0,{name:\"abc\",ifaces:[\"e\",\"e\"],res:1,start:0}]",
	    &sb);
	memset(&h, 0xaa, sizeof(h));
	assert_int_equal(proto_decode_hello((const uint8_t *)sb.data, sb.size,
	    &h), PROTO_E_RANGE);
	assert_memory_equal(&h, zeros, sizeof(h));
	msgpack_sbuffer_destroy(&sb);

	dsl_body("[1,3,1,{first:0,last:0,hosts:[" REC_HOST "],ports:["
	    REC_PORT "],peers:[[0]]}]", &sb);
	assert_int_equal(proto_decode_batch((const uint8_t *)sb.data, sb.size,
	    &bt), PROTO_E_ARITY);
	assert_null(bt.hosts);
	assert_null(bt.ports);
	assert_null(bt.peers);
	assert_int_equal(bt.nhosts + bt.nports + bt.npeers, 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_names(void **state)
{
	int e;

	(void)state;
	for (e = 0; e < PROTO_E__COUNT; e++)
		assert_string_not_equal(proto_strerror(e), "unknown error");
	assert_string_equal(proto_strerror(PROTO_E__COUNT), "unknown error");
	assert_string_equal(proto_strerror((enum proto_err)-1),
	    "unknown error");
	assert_string_equal(proto_type_name(PROTO_BATCH), "BATCH");
	assert_string_equal(proto_type_name(0), "unknown");
	assert_string_equal(proto_type_name(PROTO_STATUS), "STATUS");
	assert_string_equal(proto_type_name(PROTO_STATUS_REPLY),
	    "STATUS_REPLY");
	assert_string_equal(proto_type_name(8), "unknown");
	assert_string_equal(proto_type_name(-1), "unknown");
}

/* One test per enum proto_err, each running its rows of bad_cases. */
static void
test_ok(void **s)
{
	(void)s;
	run_cases(PROTO_OK);
}

static void
test_e_short(void **s)
{
	(void)s;
	run_cases(PROTO_E_SHORT);
}

static void
test_e_msgpack(void **s)
{
	(void)s;
	run_cases(PROTO_E_MSGPACK);
}

static void
test_e_trailing(void **s)
{
	(void)s;
	run_cases(PROTO_E_TRAILING);
}

static void
test_e_depth(void **s)
{
	(void)s;
	run_cases(PROTO_E_DEPTH);
}

static void
test_e_count(void **s)
{
	(void)s;
	run_cases(PROTO_E_COUNT);
}

static void
test_e_envelope(void **s)
{
	(void)s;
	run_cases(PROTO_E_ENVELOPE);
}

static void
test_e_version(void **s)
{
	(void)s;
	run_cases(PROTO_E_VERSION);
}

static void
test_e_type(void **s)
{
	(void)s;
	run_cases(PROTO_E_TYPE);
}

static void
test_e_field_type(void **s)
{
	(void)s;
	run_cases(PROTO_E_FIELD_TYPE);
}

static void
test_e_missing(void **s)
{
	(void)s;
	run_cases(PROTO_E_MISSING);
}

static void
test_e_range(void **s)
{
	(void)s;
	run_cases(PROTO_E_RANGE);
}

static void
test_e_arity(void **s)
{
	(void)s;
	run_cases(PROTO_E_ARITY);
}

static void
test_e_too_many(void **s)
{
	(void)s;
	run_cases(PROTO_E_TOO_MANY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_hello),
		cmocka_unit_test(test_round_trip_small),
		cmocka_unit_test(test_round_trip_status),
		cmocka_unit_test(test_round_trip_batch),
		cmocka_unit_test(test_peek_type),
		cmocka_unit_test(test_round_trip_batch_sections),
		cmocka_unit_test(test_stream_equals_batch),
		cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_encode_rules_match_decoder),
		cmocka_unit_test(test_stream_misuse),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_frame_max),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_output_zeroed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_e_short),
		cmocka_unit_test(test_e_msgpack),
		cmocka_unit_test(test_e_trailing),
		cmocka_unit_test(test_e_depth),
		cmocka_unit_test(test_e_count),
		cmocka_unit_test(test_e_envelope),
		cmocka_unit_test(test_e_version),
		cmocka_unit_test(test_e_type),
		cmocka_unit_test(test_e_field_type),
		cmocka_unit_test(test_e_missing),
		cmocka_unit_test(test_e_range),
		cmocka_unit_test(test_e_arity),
		cmocka_unit_test(test_e_too_many),
		cmocka_unit_test(test_e_too_many_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
