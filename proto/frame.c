/*
 * frame.c - the output buffer and the 4-byte length framing.
 *
 * A frame is a u32 big-endian body length, then the body.  The reader side,
 * proto_frame_check, judges a frame from its header alone so that a peer
 * declaring a huge body is refused before anything is allocated for it.
 * The writer side reserves the header first and fills it in when the body
 * is complete; a frame that fails half way is cut off again, so a buffer
 * only ever holds whole frames.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "internal.h"

#define PROTO_BUF_MIN	256

static int	proto_buf_grow(struct proto_buf *, size_t need);

void
proto_buf_init(struct proto_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
proto_buf_clear(struct proto_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	proto_buf_init(b);
}

void
proto_buf_consume(struct proto_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* Makes room for need more bytes; capacity doubles so appends are O(1). */
static int
proto_buf_grow(struct proto_buf *b, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (need <= b->cap - b->len)
		return 0;
	if (need > SIZE_MAX - b->len)
		return -1;
	cap = b->cap < PROTO_BUF_MIN ? PROTO_BUF_MIN : b->cap;
	while (cap < b->len + need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
proto_buf_append(struct proto_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (proto_buf_grow(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
proto_frame_begin(struct proto_buf *b, size_t *start)
{
	static const uint8_t zero[PROTO_HDR_LEN];

	*start = b->len;
	return proto_buf_append(b, zero, sizeof(zero));
}

int
proto_frame_end(struct proto_buf *b, size_t start, int failed)
{
	size_t body;

	if (failed || b->len < start + PROTO_HDR_LEN)
		goto fail;
	body = b->len - start - PROTO_HDR_LEN;
	/* The peer would refuse it; better the sender learns it here. */
	if (body > PROTO_FRAME_MAX)
		goto fail;
	b->data[start] = (uint8_t)(body >> 24);
	b->data[start + 1] = (uint8_t)(body >> 16);
	b->data[start + 2] = (uint8_t)(body >> 8);
	b->data[start + 3] = (uint8_t)body;
	return 0;
fail:
	if (start < b->len)
		b->len = start;
	return -1;
}

enum proto_err
proto_frame_check(const uint8_t *p, size_t avail, size_t max,
    size_t *body_len)
{
	uint32_t len;

	if (max > PROTO_FRAME_MAX)
		max = PROTO_FRAME_MAX;
	if (avail < PROTO_HDR_LEN)
		return PROTO_E_SHORT;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	/* Judged on the header alone, before the body is buffered. */
	if (len > max)
		return PROTO_E_TOO_BIG;
	if (avail - PROTO_HDR_LEN < len)
		return PROTO_E_SHORT;
	*body_len = len;
	return PROTO_OK;
}
