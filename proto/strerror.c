/*
 * strerror.c - names for decoder results and message types, for log lines
 * such as "stored: agent web1: bad frame: array count larger than bytes
 * left".  Every lookup is bounds-checked: values come from the wire.
 */
#include <stddef.h>

#include "proto.h"

static const char *const proto_errstr[PROTO_E__COUNT] = {
	[PROTO_OK] = "no error",
	[PROTO_E_SHORT] = "message truncated",
	[PROTO_E_TOO_BIG] = "frame too big",
	[PROTO_E_MSGPACK] = "not valid msgpack",
	[PROTO_E_TRAILING] = "trailing bytes after message",
	[PROTO_E_DEPTH] = "nesting too deep",
	[PROTO_E_COUNT] = "array or map count larger than bytes left",
	[PROTO_E_ENVELOPE] = "not a [version, type, seq, payload] envelope",
	[PROTO_E_VERSION] = "unsupported protocol version",
	[PROTO_E_TYPE] = "unexpected message type",
	[PROTO_E_FIELD_TYPE] = "field of the wrong type",
	[PROTO_E_MISSING] = "required field missing",
	[PROTO_E_RANGE] = "value out of range",
	[PROTO_E_ARITY] = "record of the wrong length",
	[PROTO_E_TOO_MANY] = "too many records",
	[PROTO_E_NOMEM] = "out of memory",
};

static const char *const proto_typename[] = {
	[PROTO_HELLO] = "HELLO",
	[PROTO_WELCOME] = "WELCOME",
	[PROTO_BATCH] = "BATCH",
	[PROTO_ACK] = "ACK",
	[PROTO_ERROR] = "ERROR",
	[PROTO_STATUS] = "STATUS",
	[PROTO_STATUS_REPLY] = "STATUS_REPLY",
};

const char *
proto_strerror(enum proto_err err)
{
	if ((unsigned int)err >= PROTO_E__COUNT || proto_errstr[err] == NULL)
		return "unknown error";
	return proto_errstr[err];
}

const char *
proto_type_name(int type)
{
	size_t n = sizeof(proto_typename) / sizeof(proto_typename[0]);

	if (type < 0 || (size_t)type >= n || proto_typename[type] == NULL)
		return "unknown";
	return proto_typename[type];
}
