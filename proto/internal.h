/*
 * internal.h - declarations shared by the files of proto/ and nothing else.
 *
 * The record tables here are the single description of the BATCH record
 * layouts: pack.c writes records field by field from them and unpack.c
 * reads them back with the same tables, so the two cannot drift apart.
 * proto_rec_valid() and proto_name_valid() (in proto.h, for the programs
 * to check names with too) are the range rules both sides apply, so
 * everything a decoder accepts an encoder can write again.
 */
#ifndef NETTALLY_PROTO_INTERNAL_H
#define NETTALLY_PROTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Payload map keys. */
#define PROTO_K_NAME		"name"
#define PROTO_K_IFACES		"ifaces"
#define PROTO_K_RES		"res"
#define PROTO_K_START		"start"
#define PROTO_K_LAST_SEQ	"last_seq"
#define PROTO_K_CODE		"code"
#define PROTO_K_TEXT		"text"
#define PROTO_K_FIRST		"first"
#define PROTO_K_LAST		"last"
#define PROTO_K_SPOOLED		"spooled"
#define PROTO_K_TIME		"time"
#define PROTO_K_DB_BYTES	"db_bytes"
#define PROTO_K_QUEUED		"queued"
#define PROTO_K_PENDING		"pending"
#define PROTO_K_BATCHES		"batches"
#define PROTO_K_DUPLICATES	"duplicates"
#define PROTO_K_REJECTED	"rejected"
#define PROTO_K_AGENTS		"agents"
#define PROTO_K_SCHEMA		"schema"
#define PROTO_K_WAL_BYTES	"wal_bytes"
#define PROTO_STATUS_AGENT_LEN	9	/* elements of an agent record */

#define PROTO_ENVELOPE_LEN	4	/* [version, type, seq, payload] */

/* BATCH record kinds, in the order they appear in a frame. */
enum proto_rec_kind {
	PROTO_REC_HOST,
	PROTO_REC_PORT,
	PROTO_REC_PEER,
	PROTO_REC_IFACE,
	PROTO_REC_HEALTH,
	PROTO_REC__COUNT
};

/* How one record field is written and what values it may take. */
enum proto_field_kind {
	PROTO_F_IFACE,		/* uint < PROTO_IFACES_MAX, uint32_t */
	PROTO_F_BUCKET,		/* int >= 0, stored as int64_t */
	PROTO_F_ADDR,		/* bin of 0, 4 or 16 bytes, struct proto_addr */
	PROTO_F_PROTO,		/* uint <= 255, uint8_t */
	PROTO_F_DIR,		/* 0 or 1, uint8_t */
	PROTO_F_PORT,		/* uint <= 65535, uint16_t */
	PROTO_F_U64		/* uint, uint64_t */
};

struct proto_field {
	enum proto_field_kind	 kind;
	size_t			 off;	/* offsetof() in the record struct */
};

struct proto_rec_desc {
	const char		*key;	/* payload map key of the section */
	size_t			 size;	/* sizeof the record struct */
	size_t			 nfield;
	const struct proto_field *field;
};

extern const struct proto_rec_desc proto_recs[PROTO_REC__COUNT];

/* The records of one kind in a batch, and their count in *n. */
const void	*proto_batch_get(const struct proto_batch *,
		    enum proto_rec_kind, size_t *n);
/* Stores recs (owned by the batch from now on) and their count n. */
void		 proto_batch_set(struct proto_batch *, enum proto_rec_kind,
		    void *recs, size_t n);

/* 1 when the C values of a record are all in range, 0 otherwise. */
int		 proto_rec_valid(enum proto_rec_kind, const void *rec);
/* 1 when every field of a HELLO is in range. */
int		 proto_hello_valid(const struct proto_hello *);
/* 1 when len bytes at s are acceptable ERROR text. */
int		 proto_text_valid(const char *s, size_t len);
/* Wire length of an address of this family, or -1 for a bad family. */
int		 proto_addr_len(uint8_t family);

/* Appends n bytes; 0, or -1 when memory runs out (buf unchanged). */
int		 proto_buf_append(struct proto_buf *, const void *, size_t n);
/* Starts a frame: appends a placeholder header, returns 0 or -1. */
int		 proto_frame_begin(struct proto_buf *, size_t *start);
/*
 * Ends the frame that starts at start: writes its header and returns 0,
 * or removes the partial frame and returns -1 when failed is set or the
 * body is larger than PROTO_FRAME_MAX.
 */
int		 proto_frame_end(struct proto_buf *, size_t start, int failed);

#endif
