/*
 * report_format.c - table, CSV and JSON output of the nettally command.
 *
 * The three writers walk the same report_result.  Text comes from the
 * database, so it is treated as untrusted: a table replaces C0 and C1
 * control characters, DEL, bidirectional format controls and invalid
 * UTF-8 with '?' (no terminal escape reaches the screen, not even CSI as
 * the bytes C2 9B, and no name is shown reordered), CSV quotes per
 * RFC 4180 and replaces the same (but tab, CR and LF, which a quoted
 * field holds), JSON escapes per RFC 8259 and replaces invalid UTF-8.  JSON
 * also escapes DEL, C1 and the bidirectional controls, which RFC 8259
 * allows raw: the escape keeps the string as it is for a parser, and JSON
 * read on a terminal (jq's input, a paste) cannot clear the screen, move
 * the cursor or reorder what follows.  A table is identical on a
 * terminal and in a pipe: aligned, never truncated, never coloured.  CSV
 * and JSON carry raw integers; only tables use units.
 *
 * Which retention tiers a report read (report_tier.h) follows a table as
 * "resolution:" lines, and is a "resolutions" array in JSON, before the
 * rows.  CSV stays the bare RFC 4180 table: the project's CSV has no
 * comment convention, and a line that is not a record would break the
 * readers it is for.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report_format.h"
#include "report_time.h"

#define TABLE_MAXCOLS	REPORT_MAXCOLS
#define TABLE_GAP	"  "

static void	put_spaces(FILE *, size_t);
static void	csv_text(FILE *, const char *);
static void	cell_number(const struct report_column *,
		    const struct report_value *, char *, size_t);
static void	put_number(FILE *, const struct report_column *,
		    const struct report_value *);
static size_t	utf8_valid_len(const unsigned char *);
static uint32_t	utf8_hidden(const unsigned char *, size_t);
static int	write_table(FILE *, const struct report_result *);
static int	write_csv(FILE *, const struct report_result *);
static int	write_json(FILE *, const struct report_result *,
		    const struct report_window *);
static void	iso_or_unknown(int64_t, char *, size_t);
static void	table_tiers(FILE *, const struct report_result *);
static void	json_tiers(FILE *, const struct report_result *);

int
report_format_parse(const char *name, enum report_fmt *fmt)
{
	if (strcmp(name, "table") == 0)
		*fmt = REPORT_FMT_TABLE;
	else if (strcmp(name, "csv") == 0)
		*fmt = REPORT_FMT_CSV;
	else if (strcmp(name, "json") == 0)
		*fmt = REPORT_FMT_JSON;
	else
		return -1;
	return 0;
}

const char *
report_format_noun(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int
report_format_bytes(int64_t v, char *buf, size_t len)
{
	static const char *const units[] =
	    { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	const size_t nunits = sizeof(units) / sizeof(units[0]);
	uint64_t u, div, tenths;
	size_t k;
	int n;

	if (v < 1024) {
		n = snprintf(buf, len, "%" PRId64 " B", v);
	} else {
		u = (uint64_t)v;
		/*
		 * Integer tenths, rounded half up.  r * 10 cannot overflow:
		 * r < div <= 2^60.  Stop at the first unit whose value
		 * rounds below 1024.0, so 1048575 B is "1.0 MiB", not
		 * "1024.0 KiB".
		 */
		for (k = 1, div = 1024;; k++, div *= 1024) {
			tenths = u / div * 10 + (u % div * 10 + div / 2) / div;
			if (tenths < 10240 || k == nunits - 1)
				break;
		}
		n = snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s",
		    tenths / 10, tenths % 10, units[k]);
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

int
report_format_rate(double bps, char *buf, size_t len)
{
	static const char *const units[] =
	    { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s" };
	size_t k;
	int n;

	/* SI prefixes, as links are sold; one decimal, like the bytes. */
	for (k = 0; k + 1 < sizeof(units) / sizeof(units[0]) &&
	    bps >= 999.95; k++)
		bps /= 1000.0;
	n = snprintf(buf, len, "%.1f %s", bps, units[k]);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

void
report_format_csv_field(FILE *out, const char *s)
{
	int quoted = strpbrk(s, ",\"\r\n") != NULL;

	if (quoted)
		putc('"', out);
	csv_text(out, s);
	if (quoted)
		putc('"', out);
}

/*
 * Writes s with '"' doubled, and every control but tab, CR and LF (C0,
 * DEL, C1, bidirectional) and every byte that is not valid UTF-8 as '?',
 * as a table shows them: RFC 4180 has no escape, and CSV is read on
 * terminals too, where C2 9B or a lone 9B is CSI.  The wire refuses C0
 * and DEL in names, so only a name with C1, a bidirectional control or
 * invalid UTF-8 reads otherwise.
 */
static void
csv_text(FILE *out, const char *s)
{
	const char *p = s;
	size_t n;
	int shown;

	while (*p != '\0') {
		if (*p == '"' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (*p == '"')
				putc('"', out);
			putc(*p++, out);
			continue;
		}
		n = report_format_char(p, &shown);
		if (shown)
			fwrite(p, 1, n, out);
		else
			putc('?', out);
		p += n;
	}
}

/*
 * Returns the length of the valid UTF-8 sequence (RFC 3629) starting at
 * s, or 0 when it is not one: overlong forms, surrogates and code points
 * past U+10FFFF are invalid.
 */
static size_t
utf8_valid_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	/* A NUL is not a continuation byte, so this stops at the end. */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * The code point of the valid n-byte sequence at p when a report must
 * not show it raw, else 0: C1 (U+0080..U+009F; U+009B is CSI to a
 * terminal) and the bidirectional format controls (U+061C, U+200E,
 * U+200F, U+202A..U+202E, U+2066..U+2069), which reorder the text after
 * them, so that one agent's or interface's name can read as another's.
 */
static uint32_t
utf8_hidden(const unsigned char *p, size_t n)
{
	uint32_t cp;

	if (n == 2)
		cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	else if (n == 3)
		cp = (uint32_t)(p[0] & 0x0f) << 12 |
		    (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	else
		return 0;
	if (cp <= 0x9f || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return cp;
	return 0;
}

void
report_format_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	putc('"', out);
	while (*p != '\0') {
		switch (*p) {
		case '"':  fputs("\\\"", out); p++; continue;
		case '\\': fputs("\\\\", out); p++; continue;
		case '\b': fputs("\\b", out); p++; continue;
		case '\f': fputs("\\f", out); p++; continue;
		case '\n': fputs("\\n", out); p++; continue;
		case '\r': fputs("\\r", out); p++; continue;
		case '\t': fputs("\\t", out); p++; continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_valid_len(p)) == 0) {
			fputs("\\ufffd", out);
			p++;
		} else if ((cp = utf8_hidden(p, n)) != 0) {
			fprintf(out, "\\u%04" PRIx32, cp);
			p += n;
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
	putc('"', out);
}

size_t
report_format_char(const char *s, int *shown)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (*p < 0x80) {
		*shown = *p >= 0x20 && *p != 0x7f;
		return 1;
	}
	if ((n = utf8_valid_len(p)) == 0) {
		*shown = 0;
		return 1;
	}
	*shown = utf8_hidden(p, n) == 0;
	return n;
}

size_t
report_format_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w;
	int shown;

	for (w = 0; *p != '\0'; w++)
		p += report_format_char((const char *)p, &shown);
	return w;
}

void
report_format_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int shown;

	while (*p != '\0') {
		n = report_format_char((const char *)p, &shown);
		if (shown)
			fwrite(p, 1, n, out);
		else
			putc('?', out);
		p += n;
	}
}

static void
put_spaces(FILE *out, size_t n)
{
	while (n-- > 0)
		putc(' ', out);
}

/* Table text of a numeric cell: bytes in units, counts as they are. */
static void
cell_number(const struct report_column *col, const struct report_value *v,
    char *buf, size_t len)
{
	if (v->isnull)
		buf[0] = '\0';
	else if (col->type == REPORT_COL_BYTES)
		report_format_bytes(v->num, buf, len);
	else if (col->type == REPORT_COL_RATE)
		report_format_rate(v->real, buf, len);
	else if (col->type == REPORT_COL_REAL)
		snprintf(buf, len, "%.1f", v->real);
	else
		snprintf(buf, len, "%" PRId64, v->num);
}

/* Raw value of a numeric cell for CSV and JSON: rates with 3 decimals. */
static void
put_number(FILE *out, const struct report_column *col,
    const struct report_value *v)
{
	if (col->type == REPORT_COL_RATE || col->type == REPORT_COL_REAL)
		fprintf(out, "%.3f", v->real);
	else
		fprintf(out, "%" PRId64, v->num);
}

static int
write_table(FILE *out, const struct report_result *res)
{
	const struct report_value *v;
	size_t width[TABLE_MAXCOLS], r, c, w;
	char num[REPORT_BYTES_LEN];
	const char *s;

	if (res->ncols > TABLE_MAXCOLS)
		return -1;
	for (c = 0; c < res->ncols; c++)
		width[c] = strlen(res->cols[c].name);
	for (r = 0; r < res->nrows; r++) {
		for (c = 0; c < res->ncols; c++) {
			v = &res->cells[r * res->ncols + c];
			if (res->cols[c].type == REPORT_COL_TEXT) {
				w = v->text == NULL ? 0 :
				    report_format_text_width(v->text);
			} else {
				cell_number(&res->cols[c], v, num, sizeof(num));
				w = strlen(num);
			}
			if (w > width[c])
				width[c] = w;
		}
	}
	/* Row -1 is the header.  Text is left-aligned, numbers right. */
	for (r = 0; r <= res->nrows; r++) {
		for (c = 0; c < res->ncols; c++) {
			/* An empty last text cell: no gap, no trailing blank. */
			if (r > 0 && c + 1 == res->ncols &&
			    res->cols[c].type == REPORT_COL_TEXT &&
			    (res->cells[(r - 1) * res->ncols + c].text == NULL ||
			    res->cells[(r - 1) * res->ncols + c].text[0] ==
			    '\0'))
				break;
			if (c > 0)
				fputs(TABLE_GAP, out);
			if (r == 0) {
				s = res->cols[c].name;
			} else {
				v = &res->cells[(r - 1) * res->ncols + c];
				if (res->cols[c].type == REPORT_COL_TEXT) {
					s = v->text == NULL ? "" : v->text;
				} else {
					cell_number(&res->cols[c], v, num,
					    sizeof(num));
					s = num;
				}
			}
			w = report_format_text_width(s);
			if (res->cols[c].type != REPORT_COL_TEXT)
				put_spaces(out, width[c] - w);
			report_format_text(out, s);
			/* No trailing blanks at the end of a line. */
			if (res->cols[c].type == REPORT_COL_TEXT &&
			    c + 1 < res->ncols)
				put_spaces(out, width[c] - w);
		}
		putc('\n', out);
	}
	table_tiers(out, res);
	return ferror(out) ? -1 : 0;
}

static int
write_csv(FILE *out, const struct report_result *res)
{
	const struct report_value *v;
	size_t r, c;

	for (c = 0; c < res->ncols; c++) {
		if (c > 0)
			putc(',', out);
		report_format_csv_field(out, res->cols[c].name);
	}
	fputs("\r\n", out);
	for (r = 0; r < res->nrows; r++) {
		for (c = 0; c < res->ncols; c++) {
			v = &res->cells[r * res->ncols + c];
			if (c > 0)
				putc(',', out);
			if (v->isnull)
				continue;
			if (res->cols[c].type == REPORT_COL_TEXT)
				report_format_csv_field(out, v->text);
			else
				put_number(out, &res->cols[c], v);
		}
		fputs("\r\n", out);
	}
	return ferror(out) ? -1 : 0;
}

void
report_format_json_time(FILE *out, const char *key, int64_t t)
{
	char iso[REPORT_TIME_ISO_LEN];

	if (report_time_format(t, iso, sizeof(iso)) == -1)
		fprintf(out, ",\"%s\":null,\"%s_epoch\":null", key, key);
	else
		fprintf(out, ",\"%s\":\"%s\",\"%s_epoch\":%" PRId64, key, iso,
		    key, t);
}

static int
write_json(FILE *out, const struct report_result *res,
    const struct report_window *win)
{
	const struct report_value *v;
	size_t r, c;

	fputs("{\"report\":", out);
	report_format_json_string(out, res->name);
	if (!win->norange) {
		report_format_json_time(out, "since", win->since);
		report_format_json_time(out, "until", win->until);
	}
	if (win->shownow)
		report_format_json_time(out, "now", win->now);
	if (win->step > 0)
		fprintf(out, ",\"step\":%" PRId64, win->step);
	if (win->limit > 0)
		fprintf(out, ",\"limit\":%" PRId64, win->limit);
	json_tiers(out, res);
	fputs(",\"rows\":[", out);
	for (r = 0; r < res->nrows; r++) {
		fputs(r == 0 ? "\n{" : ",\n{", out);
		for (c = 0; c < res->ncols; c++) {
			v = &res->cells[r * res->ncols + c];
			if (c > 0)
				putc(',', out);
			report_format_json_string(out, res->cols[c].name);
			putc(':', out);
			if (v->isnull)
				fputs("null", out);
			else if (res->cols[c].type == REPORT_COL_TEXT)
				report_format_json_string(out, v->text);
			else
				put_number(out, &res->cols[c], v);
		}
		putc('}', out);
	}
	fputs(res->nrows > 0 ? "\n]}\n" : "]}\n", out);
	return ferror(out) ? -1 : 0;
}

/* A bucket time for the tier lines; "?" for one no calendar holds. */
static void
iso_or_unknown(int64_t t, char *buf, size_t len)
{
	if (report_time_format(t, buf, len) == -1)
		snprintf(buf, len, "?");
}

/*
 * The lines after a table: one per tier read, oldest first, each with the
 * first and last bucket it gave; with the summary, the database's size
 * and each tier's coverage.
 */
static void
table_tiers(FILE *out, const struct report_result *res)
{
	const struct report_dbinfo *d = &res->dbinfo;
	const struct report_part *p;
	char a[REPORT_TIME_ISO_LEN], b[REPORT_TIME_ISO_LEN];
	char label[REPORT_TIER_LABEL_LEN], size[REPORT_BYTES_LEN];
	size_t i;

	if (res->has_tiers && res->tiers.n == 0)
		fputs("resolution: none, no rows in this range\n", out);
	for (i = 0; res->has_tiers && i < res->tiers.n; i++) {
		p = &res->tiers.part[i];
		report_tier_label(p->res, label);
		iso_or_unknown(p->first, a, sizeof(a));
		iso_or_unknown(p->end, b, sizeof(b));
		fprintf(out, "resolution: %s (%s tier), %s .. %s\n", label,
		    report_tier_name(p->res), a, b);
	}
	if (res->has_tiers && res->tiers.nmore > 0)
		fprintf(out, "resolution: and %zu more %s\n",
		    res->tiers.nmore, report_format_noun(res->tiers.nmore,
		    "resolution", "resolutions"));
	if (!res->has_dbinfo)
		return;
	report_format_bytes(d->page_count * d->page_size, size, sizeof(size));
	fprintf(out, "database: %s, %" PRId64 " %s of %" PRId64 " B, %"
	    PRId64 " free", size, d->page_count,
	    report_format_noun((uint64_t)d->page_count, "page", "pages"),
	    d->page_size, d->freelist);
	if (d->has_wal) {
		report_format_bytes(d->wal_bytes, size, sizeof(size));
		fprintf(out, "; the -wal file (%s) is not counted\n", size);
	} else
		fputs("; no -wal file\n", out);
	if (d->cover.n == 0)
		fputs("tiers: none, no interface rows recorded\n", out);
	for (i = 0; i < d->cover.n; i++) {
		p = &d->cover.part[i];
		report_tier_label(p->res, label);
		iso_or_unknown(p->first, a, sizeof(a));
		iso_or_unknown(p->newest, b, sizeof(b));
		fprintf(out, "tier %s (%s): oldest bucket %s, newest %s, %"
		    PRId64 " %s\n", report_tier_name(p->res), label, a, b,
		    p->nbuckets, report_format_noun((uint64_t)p->nbuckets,
		    "bucket", "buckets"));
	}
	if (d->cover.nmore > 0)
		fprintf(out, "tiers: and %zu more %s\n", d->cover.nmore,
		    report_format_noun(d->cover.nmore, "resolution",
		    "resolutions"));
}

/* The JSON fields of the same: ,"resolutions":[...] and the summary's. */
static void
json_tiers(FILE *out, const struct report_result *res)
{
	const struct report_dbinfo *d = &res->dbinfo;
	const struct report_part *p;
	size_t i;

	if (res->has_tiers) {
		fputs(",\"resolutions\":[", out);
		for (i = 0; i < res->tiers.n; i++) {
			p = &res->tiers.part[i];
			fprintf(out, "%s{\"tier\":\"%s\",\"resolution\":%"
			    PRId64, i > 0 ? "," : "", report_tier_name(p->res),
			    p->res);
			report_format_json_time(out, "first", p->first);
			report_format_json_time(out, "end", p->end);
			putc('}', out);
		}
		putc(']', out);
		if (res->tiers.nmore > 0)
			fprintf(out, ",\"more_resolutions\":%zu",
			    res->tiers.nmore);
	}
	if (!res->has_dbinfo)
		return;
	fprintf(out, ",\"database\":{\"bytes\":%" PRId64 ",\"page_count\":%"
	    PRId64 ",\"page_size\":%" PRId64 ",\"freelist_count\":%" PRId64,
	    d->page_count * d->page_size, d->page_count, d->page_size,
	    d->freelist);
	if (d->has_wal)
		fprintf(out, ",\"wal_bytes\":%" PRId64 "}", d->wal_bytes);
	else
		fputs(",\"wal_bytes\":null}", out);
	fputs(",\"tiers\":[", out);
	for (i = 0; i < d->cover.n; i++) {
		p = &d->cover.part[i];
		fprintf(out, "%s{\"tier\":\"%s\",\"resolution\":%" PRId64,
		    i > 0 ? "," : "", report_tier_name(p->res), p->res);
		report_format_json_time(out, "oldest", p->first);
		report_format_json_time(out, "newest", p->newest);
		fprintf(out, ",\"buckets\":%" PRId64 "}", p->nbuckets);
	}
	putc(']', out);
	if (d->cover.nmore > 0)
		fprintf(out, ",\"more_tiers\":%zu", d->cover.nmore);
}

int
report_format_write(FILE *out, enum report_fmt fmt,
    const struct report_result *res, const struct report_window *win)
{
	switch (fmt) {
	case REPORT_FMT_TABLE:
		return write_table(out, res);
	case REPORT_FMT_CSV:
		return write_csv(out, res);
	case REPORT_FMT_JSON:
		return write_json(out, res, win);
	}
	return -1;
}
