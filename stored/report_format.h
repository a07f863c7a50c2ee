/*
 * report_format.h - prints a report_result as a table, CSV or JSON.
 *
 * Output goes to a stdio stream; each writer returns -1 when the stream
 * reports an error, so the caller can fail loudly on a full disk or a
 * closed pipe instead of exiting 0 with half a report.
 */
#ifndef NETTALLY_REPORT_FORMAT_H
#define NETTALLY_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report_query.h"

enum report_fmt {
	REPORT_FMT_TABLE,
	REPORT_FMT_CSV,
	REPORT_FMT_JSON,
};

/* What the report covered, for the JSON wrapper. */
struct report_window {
	int64_t	since;		/* REPORT_TIME_NONE_LOW when unbounded */
	int64_t	until;		/* REPORT_TIME_NONE_HIGH when unbounded */
	int64_t	limit;		/* 0: not printed */
	int64_t	step;		/* series step; 0: not printed */
	int	norange;	/* since and until not printed (summary) */
	int	shownow;	/* print now: the present the report assumed */
	int64_t	now;
};

/* Room for the longest human byte count, "-9223372036854775808 B". */
#define REPORT_BYTES_LEN	24

/*
 * Looks up a --format name ("table", "csv", "json").  Returns 0 and sets
 * *fmt, or -1 when the name is unknown.
 */
int	report_format_parse(const char *name, enum report_fmt *fmt);

/*
 * Writes v in binary units into buf: "512 B", "1.5 KiB", "3.0 GiB" (one
 * decimal, rounded half up; a value that rounds to 1024.0 moves up a unit).
 * Returns 0, or -1 when buf is too small.
 */
int	report_format_bytes(int64_t v, char *buf, size_t len);

/*
 * The noun for a count of n in text: one when n is 1, else many ("1
 * bucket", "0 buckets", "2 batches").  Returns one of the two.
 */
const char	*report_format_noun(uint64_t n, const char *one,
		    const char *many);

/*
 * Writes a rate in bit/s with SI prefixes into buf: "1.5 kbit/s",
 * "12.0 bit/s".  Returns 0, or -1 when buf is too small.
 */
int	report_format_rate(double bps, char *buf, size_t len);

/*
 * Writes s as one RFC 4180 field: quoted, with quotes doubled, when it
 * holds a comma, a double quote, CR or LF; controls other than tab, CR
 * and LF, and bytes that are not valid UTF-8, as '?' (they would reach a
 * terminal as escapes).
 */
void	report_format_csv_field(FILE *out, const char *s);

/*
 * Returns the length of the character at s (not at its NUL) and sets
 * *shown when a terminal may get it as it is; otherwise it is one '?':
 * a C0 control, DEL, a C1 control (U+0080..U+009F, C2 80..C2 9F, which
 * terminals take as escapes) or a byte that starts no valid UTF-8 (RFC
 * 3629: no overlong forms, surrogates or code points past U+10FFFF).
 */
size_t	report_format_char(const char *s, int *shown);

/*
 * Writes s for a terminal: C0 and C1 control characters, DEL and each
 * byte that is not valid UTF-8 (RFC 3629) as '?', the rest as it is.
 */
void	report_format_text(FILE *out, const char *s);

/* The columns report_format_text takes for s: one per character. */
size_t	report_format_text_width(const char *s);

/*
 * Writes s as a JSON string with its quotes (RFC 8259): ", \ and control
 * characters (C0, DEL and C1) escaped, bytes that are not valid UTF-8
 * replaced by U+FFFD.
 */
void	report_format_json_string(FILE *out, const char *s);

/*
 * Writes ,"key":"ISO",key_epoch:N for time t (seconds), or the two keys
 * with null when t is unbounded: a JSON object member pair, comma first.
 */
void	report_format_json_time(FILE *out, const char *key, int64_t t);

/*
 * Writes res to out in fmt.  Returns 0, or -1 when out has an error.
 */
int	report_format_write(FILE *out, enum report_fmt fmt,
	    const struct report_result *res, const struct report_window *win);

#endif
