/*
 * report_chart.c - a standalone SVG time series of the selected traffic.
 *
 * The chart is one file with no script, no external font, image or style
 * sheet, so any browser or image viewer shows it as written.  Each series
 * is one colour, one filled path per side: in rates stacked upwards from
 * the time axis, out rates stacked downwards, both on the same bit/s
 * scale.  Steps are columns, as in nettally series (report_series_step
 * decides the step), so a value in the chart is a row of the series.
 * Under the time axis a line names the retention tiers the chart read.
 * Text from the database (host, protocol, agent and interface names) is
 * escaped for XML; valid UTF-8 passes, and what XML 1.0 cannot hold or a
 * viewer would not draw (bad bytes, controls) becomes '?'.  Memory is bounded:
 * at most REPORT_CHART_STEPS_MAX steps of REPORT_CHART_SERIES_MAX + 1
 * series.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_chart.h"
#include "report_format.h"
#include "report_series.h"
#include "report_time.h"

#define REPORT_CHART_STEPS_MAX	2000
#define SQL_MAX			4096
#define NSER			(REPORT_CHART_SERIES_MAX + 1)

/* Geometry, in SVG user units (pixels at 100 %). */
#define W		960
#define H		540
#define PX0		100		/* plot area */
#define PX1		900
#define PY0		50
#define PY1		390
#define TIERS_Y		(PY1 + 62)	/* the tiers read, under the axis */
#define LEGEND_Y	476

struct report_chart {
	char	*name[NSER];		/* series names; last: "other" */
	int64_t	 total[NSER];		/* bytes, for the legend */
	size_t	 nser;			/* named series, without "other" */
	int	 has_other;
	double	*in;			/* [step * NSER + series], bit/s */
	double	*out;
	int64_t	 start, step;
	int64_t	 end;			/* of the last step */
	int64_t	 since, until;		/* the window */
	size_t	 nsteps;
	double	*base;			/* draw_side's stack, nsteps long */
	double	 scale;			/* bit/s at the top and bottom */
	enum report_chart_by by;
	struct report_tiers tiers;	/* read, named under the axis */
};

static const char *const colours[NSER] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#17becf", "#7f7f7f",
};

/*
 * A series' name, as the view's columns give it: host, proto_name, or
 * agent || '/' || iface.  The chart reads the counter table under the
 * view's filters (report_query_table), sums it per id first, then joins
 * the name to the sums, which are grouped again by name (two interfaces
 * may make one name): the view would turn every row's ids into text and
 * sort every row by it.
 */
struct chart_key {
	const char	*id;		/* the table's column */
	const char	*name;		/* the name, of g and joins */
	const char	*joins;
};
static const struct chart_key key_sql[] = {
	[REPORT_CHART_HOST] = { "host_id", "h.text",
	    " JOIN address h ON h.id = g.host_id" },
	[REPORT_CHART_PROTO] = { "proto",
	    "COALESCE(p.name, CAST(g.proto AS TEXT))",
	    " LEFT JOIN protocol p ON p.number = g.proto" },
	[REPORT_CHART_IFACE] = { "iface_id", "a.name || '/' || i.name",
	    " JOIN iface i ON i.id = g.iface_id"
	    " JOIN agent a ON a.id = i.agent_id" },
};
static const char *const by_name[] = {
	[REPORT_CHART_HOST] = "host",
	[REPORT_CHART_PROTO] = "proto",
	[REPORT_CHART_IFACE] = "iface",
};

static int	load_keys(sqlite3 *, const struct report_args *,
		    const struct chart_key *, const char *, const char *,
		    struct report_chart *, const char **);
static int	load_steps(sqlite3 *, const struct report_args *,
		    const struct chart_key *, const char *, const char *,
		    struct report_chart *, const char **);
static void	svg_text(FILE *, const char *);
static void	svg_ascii(FILE *, unsigned char);
static double	nice_max(double);
static void	draw_side(FILE *, struct report_chart *, const double *, int);
static void	draw_grid(FILE *, double);
static void	draw_axes(FILE *, const struct report_chart *);
static void	draw_legend(FILE *, const struct report_chart *);
static void	draw_tiers(FILE *, const struct report_tiers *);

int
report_chart_by_parse(const char *name, enum report_chart_by *by)
{
	size_t i;

	for (i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
		if (strcmp(name, by_name[i]) == 0) {
			*by = (enum report_chart_by)i;
			return 0;
		}
	return -1;
}

void
report_chart_free(struct report_chart *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NSER; i++)
		free(c->name[i]);
	free(c->in);
	free(c->out);
	free(c->base);
	free(c);
}

/*
 * Writes s as XML character data in UTF-8, the SVG's encoding: valid
 * UTF-8 as it is, & < > " ' escaped, and as one '?' each what would make
 * the file unreadable or draw as garbage: a byte that starts no valid
 * UTF-8, C0 and C1 controls, DEL and the bidirectional format controls,
 * which would draw a name reordered (report_format_char), and U+FFFE and
 * U+FFFF, which XML 1.0 has no place for (surrogates are not valid UTF-8).
 */
static void
svg_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int shown;

	while (*p != '\0') {
		n = report_format_char((const char *)p, &shown);
		if (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)
			shown = 0;
		if (!shown)
			putc('?', out);
		else if (n > 1)
			fwrite(p, 1, n, out);
		else
			svg_ascii(out, *p);
		p += n;
	}
}

/* Writes the printable ASCII character c, escaped for XML. */
static void
svg_ascii(FILE *out, unsigned char c)
{
	switch (c) {
	case '&': fputs("&amp;", out); break;
	case '<': fputs("&lt;", out); break;
	case '>': fputs("&gt;", out); break;
	case '"': fputs("&quot;", out); break;
	case '\'': fputs("&apos;", out); break;
	default: putc(c, out); break;
	}
}

/* The a->limit keys with the most bytes: the named series. */
static int
load_keys(sqlite3 *db, const struct report_args *a,
    const struct chart_key *key, const char *table, const char *where,
    struct report_chart *c, const char **errstr)
{
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	const unsigned char *text;
	int rc, n;

	n = snprintf(sql, sizeof(sql), "SELECT %s, nt_sum(g.b) FROM"
	    " (SELECT %s, nt_sum(bytes) AS b FROM %s s%s GROUP BY 1) g%s"
	    " GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT ?3", key->name, key->id,
	    table, where, key->joins);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		*errstr = "query too long";
		return -1;
	}
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    c->nser < REPORT_CHART_SERIES_MAX) {
		text = sqlite3_column_text(st, 0);
		if ((c->name[c->nser] = strdup(text != NULL ?
		    (const char *)text : "")) == NULL) {
			*errstr = "out of memory";
			sqlite3_finalize(st);
			return -1;
		}
		c->total[c->nser] = sqlite3_column_int64(st, 1);
		c->nser++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if ((c->name[REPORT_CHART_SERIES_MAX] = strdup("other")) == NULL) {
		*errstr = "out of memory";
		return -1;
	}
	return 0;
}

/*
 * Sums every step's in and out bytes per series, as bit/s.  The rows
 * come by step, then name, as the view's GROUP BY gave them: "other"
 * adds several names' rates in that order.
 */
static int
load_steps(sqlite3 *db, const struct report_args *a,
    const struct chart_key *key, const char *table, const char *where,
    struct report_chart *c, const char **errstr)
{
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	const char *text;
	int64_t t, inb, outb, n;
	double len;
	size_t i, k;
	int rc, len_sql;

	/* The table's direction is 0 for in, else out. */
	len_sql = snprintf(sql, sizeof(sql), "SELECT g.t, %s,"
	    " nt_sum(g.ib), nt_sum(g.ob) FROM (SELECT %s AS t, %s,"
	    " nt_sum(CASE direction WHEN 0 THEN bytes ELSE 0 END) AS ib,"
	    " nt_sum(CASE direction WHEN 0 THEN 0 ELSE bytes END) AS ob"
	    " FROM %s s%s GROUP BY 1, 2) g%s GROUP BY 1, 2 ORDER BY 1, 2",
	    key->name, REPORT_TIER_STEP_SQL, key->id, table, where,
	    key->joins);
	if (len_sql < 0 || (size_t)len_sql >= sizeof(sql)) {
		*errstr = "query too long";
		return -1;
	}
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, REPORT_P_STEP, c->step) != SQLITE_OK) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_int64(st, 0);
		text = (const char *)sqlite3_column_text(st, 1);
		inb = sqlite3_column_int64(st, 2);
		outb = sqlite3_column_int64(st, 3);
		if (t < c->start || t >= c->end)
			continue;
		/* Calendar months: their index counts them from the start. */
		n = report_tier_count(c->start, t, c->step,
		    REPORT_CHART_STEPS_MAX);
		if (n < 0 || (uint64_t)n >= c->nsteps)
			continue;
		i = (size_t)n;
		len = (double)(report_tier_next(t, c->step) - t);
		for (k = 0; k < c->nser; k++)
			if (text != NULL && strcmp(text, c->name[k]) == 0)
				break;
		if (k == c->nser) {
			k = REPORT_CHART_SERIES_MAX;
			c->has_other = 1;
			c->total[k] += inb + outb;
		}
		c->in[i * NSER + k] += (double)inb * 8.0 / len;
		c->out[i * NSER + k] += (double)outb * 8.0 / len;
	}
	if (rc != SQLITE_DONE) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Rounds v up to 1, 2 or 5 times a power of ten (at least 1). */
static double
nice_max(double v)
{
	double p = 1;

	if (v <= 1)
		return 1;
	while (p * 10 <= v)
		p *= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

/*
 * One filled path per series: up (in, sign -1) or down (out, sign 1).
 * c->base was allocated by report_chart_load, so drawing cannot fail
 * for want of memory once the output is open.
 */
static void
draw_side(FILE *out, struct report_chart *c, const double *v, int sign)
{
	const double ymid = (PY0 + PY1) / 2.0, half = (PY1 - PY0) / 2.0;
	const double colw = (double)(PX1 - PX0) / (double)c->nsteps;
	const double scale = c->scale;
	double *base = c->base, x0, x1, y;
	size_t i, k;
	int empty;

	memset(base, 0, c->nsteps * sizeof(*base));
	for (k = 0; k < NSER; k++) {
		if (k >= c->nser && (k != REPORT_CHART_SERIES_MAX ||
		    !c->has_other))
			continue;
		for (i = 0, empty = 1; i < c->nsteps; i++)
			if (v[i * NSER + k] > 0)
				empty = 0;
		if (empty)
			continue;
		/* Along the top of the stack, then back along its base. */
		fprintf(out, "<path fill=\"%s\" stroke=\"none\" d=\"", colours[k]);
		for (i = 0; i < c->nsteps; i++) {
			x0 = PX0 + colw * (double)i;
			x1 = x0 + colw;
			y = ymid + sign * (base[i] + v[i * NSER + k]) / scale *
			    half;
			fprintf(out, "%s%.2f %.2f L%.2f %.2f ", i == 0 ? "M" :
			    "L", x0, y, x1, y);
		}
		for (i = c->nsteps; i-- > 0;) {
			x0 = PX0 + colw * (double)i;
			x1 = x0 + colw;
			y = ymid + sign * base[i] / scale * half;
			fprintf(out, "L%.2f %.2f L%.2f %.2f ", x1, y, x0, y);
		}
		fputs("Z\"/>\n", out);
		for (i = 0; i < c->nsteps; i++)
			base[i] += v[i * NSER + k];
	}
}

/* Grid lines and rate labels, under the series. */
static void
draw_grid(FILE *out, double scale)
{
	const double ymid = (PY0 + PY1) / 2.0, half = (PY1 - PY0) / 2.0;
	char label[REPORT_BYTES_LEN];
	double y, frac;
	int i;

	/* Rate ticks: 0, half and full scale, up (in) and down (out). */
	for (i = -2; i <= 2; i++) {
		y = ymid + i * half / 2;
		frac = (double)(i < 0 ? -i : i) / 2.0;
		report_format_rate(scale * frac, label, sizeof(label));
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\""
		    " stroke=\"#cccccc\" stroke-width=\"1\"/>\n", PX0, y, PX1,
		    y);
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
		    "%s</text>\n", PX0 - 6, y + 4, label);
	}
}

/* Axis lines, over the series, and time labels. */
static void
draw_axes(FILE *out, const struct report_chart *c)
{
	const double ymid = (PY0 + PY1) / 2.0;
	char iso[REPORT_TIME_ISO_LEN];
	int64_t t, span = c->end - c->start;
	double x;
	int i;

	/* On half pixels: a 1-unit line then covers whole pixels. */
	fprintf(out, "<g stroke=\"#000000\" stroke-width=\"1\" fill=\"none\">"
	    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
	    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/></g>\n",
	    PX0 - 0.5, PY0, PX0 - 0.5, PY1, PX0, ymid + 0.5, PX1, ymid + 0.5);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"start\">in "
	    "(bit/s)</text>\n", PX0 + 4, PY0 - 6);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"start\">out "
	    "(bit/s)</text>\n", PX0 + 4, PY1 + 14);
	/* Time ticks: 5 intervals, UTC. */
	for (i = 0; i <= 5; i++) {
		t = c->start + span * i / 5;
		x = PX0 + (double)(PX1 - PX0) * i / 5.0;
		if (report_time_format(t, iso, sizeof(iso)) == -1)
			continue;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\""
		    " stroke=\"#000000\"/>\n", x, PY1, x, PY1 + 5);
		/* "MM-DDTHH:MM" of the ISO form. */
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
		    "%.5s %.5s</text>\n", x, PY1 + 30, iso + 5, iso + 11);
	}
	if (c->step == REPORT_TIER_MONTH)
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		    "time (UTC), step 1 month</text>\n", (PX0 + PX1) / 2,
		    PY1 + 46);
	else
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		    "time (UTC), step %" PRId64 " s</text>\n", (PX0 + PX1) / 2,
		    PY1 + 46, c->step);
}

static void
draw_legend(FILE *out, const struct report_chart *c)
{
	char vol[REPORT_BYTES_LEN];
	size_t k, n = 0;
	int x, y;

	for (k = 0; k < NSER; k++) {
		if (k >= c->nser && (k != REPORT_CHART_SERIES_MAX ||
		    !c->has_other))
			continue;
		x = PX0 + (int)(n % 3) * 280;
		y = LEGEND_Y + (int)(n / 3) * 22;
		report_format_bytes(c->total[k], vol, sizeof(vol));
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\""
		    " fill=\"%s\"/><text x=\"%d\" y=\"%d\">", x, y - 11,
		    colours[k], x + 20, y);
		svg_text(out, c->name[k]);
		fprintf(out, " (%s)</text>\n", vol);
		n++;
	}
}

/*
 * One line naming the tiers the chart read, oldest first, with the time
 * each gave ("MM-DD HH:MM", as the axis labels).
 */
static void
draw_tiers(FILE *out, const struct report_tiers *t)
{
	const struct report_part *p;
	const char *name;
	char label[REPORT_TIER_LABEL_LEN];
	char a[REPORT_TIME_ISO_LEN], b[REPORT_TIME_ISO_LEN];
	size_t i;

	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
	    "font-size=\"11\">resolution: ", (PX0 + PX1) / 2, TIERS_Y);
	if (t->n == 0)
		fputs("none, no rows in this range", out);
	for (i = 0; i < t->n; i++) {
		p = &t->part[i];
		report_tier_label(p->res, label);
		if (report_time_format(p->first, a, sizeof(a)) == -1 ||
		    report_time_format(p->end, b, sizeof(b)) == -1)
			continue;
		/*
		 * Short, to fit four tiers in the width: a roll-up tier's
		 * name says its resolution, a raw tier's does not.
		 */
		name = report_tier_name(p->res);
		fprintf(out, "%s%s", i > 0 ? "; " : "", name);
		if (strcmp(name, "raw") == 0)
			fprintf(out, " (%s)", label);
		fprintf(out, " %.5s %.5s - %.5s %.5s", a + 5, a + 11, b + 5,
		    b + 11);
	}
	if (t->nmore > 0)
		fprintf(out, "; and %zu more", t->nmore);
	fputs("</text>\n", out);
}

struct report_chart *
report_chart_load(sqlite3 *db, const struct report_args *a,
    enum report_chart_by by, int64_t *step, int *rc, const char **errstr)
{
	static char msg[256];
	struct report_span span;
	struct report_chart *c;
	const struct chart_key *key = &key_sql[by];
	const char *table, *where;
	double sin, sout;
	char iso[REPORT_TIME_ISO_LEN];
	int64_t nsteps, since, until, first;
	size_t i, k;

	*rc = -1;
	table = report_query_table(REPORT_SRC_HOST, a->filter, &where);
	if (report_query_span(db, REPORT_SRC_HOST, a, &span, errstr) == -1)
		return NULL;
	if (span.nres == 0 && (a->since == REPORT_TIME_NONE_LOW ||
	    a->until == REPORT_TIME_NONE_HIGH)) {
		*errstr = "no traffic to chart; give --since and --until, or "
		    "check the filters";
		*rc = REPORT_EUSER;
		return NULL;
	}
	/* Bounded: a window without rows and an unbounded end was refused. */
	report_query_bounds(a, &span, &since, &until);
	if ((*rc = report_series_step(db, a, since, step, &first,
	    errstr)) != 0)
		return NULL;
	/* As nettally series, which prints no row then: nothing to draw. */
	if (first >= until) {
		if (report_time_format(first, iso, sizeof(iso)) == -1)
			snprintf(iso, sizeof(iso), "never");
		snprintf(msg, sizeof(msg), "no bucket can start in this "
		    "window: with the data's resolutions the first one after "
		    "--since starts at %s, at or after --until; give a longer "
		    "window", iso);
		*errstr = msg;
		*rc = REPORT_EUSER;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*errstr = "out of memory";
		*rc = -1;
		return NULL;
	}
	c->by = by;
	c->tiers = span.tiers;
	c->step = *step;
	c->since = since;
	c->until = until;
	c->start = report_tier_floor(first, c->step);
	nsteps = report_tier_count(c->start, c->until, c->step,
	    REPORT_CHART_STEPS_MAX);
	if (nsteps > REPORT_CHART_STEPS_MAX) {
		snprintf(msg, sizeof(msg), "%lld steps of %llds are more than "
		    "a chart shows (%d); give a larger --step or a shorter "
		    "window", (long long)nsteps, (long long)c->step,
		    REPORT_CHART_STEPS_MAX);
		*errstr = msg;
		*rc = REPORT_EUSER;
		goto fail;
	}
	*rc = -1;
	c->nsteps = (size_t)nsteps;
	for (c->end = c->start, i = 0; i < c->nsteps; i++)
		c->end = report_tier_next(c->end, c->step);
	if ((c->in = calloc(c->nsteps * NSER, sizeof(double))) == NULL ||
	    (c->out = calloc(c->nsteps * NSER, sizeof(double))) == NULL ||
	    (c->base = calloc(c->nsteps, sizeof(double))) == NULL) {
		*errstr = "out of memory";
		goto fail;
	}
	if (load_keys(db, a, key, table, where, c, errstr) == -1 ||
	    load_steps(db, a, key, table, where, c, errstr) == -1)
		goto fail;
	for (i = 0; i < c->nsteps; i++) {
		for (k = 0, sin = sout = 0; k < NSER; k++) {
			sin += c->in[i * NSER + k];
			sout += c->out[i * NSER + k];
		}
		if (sin > c->scale)
			c->scale = sin;
		if (sout > c->scale)
			c->scale = sout;
	}
	c->scale = nice_max(c->scale);
	*rc = 0;
	return c;
fail:
	report_chart_free(c);
	return NULL;
}

int
report_chart_empty(const struct report_chart *c, int64_t *since,
    int64_t *until)
{
	*since = c->since;
	*until = c->until;
	return c->tiers.n == 0;
}

int
report_chart_draw(struct report_chart *c, FILE *out)
{
	char since[REPORT_TIME_ISO_LEN], until[REPORT_TIME_ISO_LEN];

	report_time_format(c->start, since, sizeof(since));
	report_time_format(c->end, until, sizeof(until));
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n<title>nettally: traffic by %s, %s to %s"
	    "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
	    "fill=\"#ffffff\"/>\n<text x=\"%d\" y=\"24\" font-size=\"15\">"
	    "Traffic by %s, %s to %s, in above and out below the axis"
	    "</text>\n", W, H, W, H, by_name[c->by], since, until, W, H, PX0,
	    by_name[c->by], since, until);
	draw_grid(out, c->scale);
	draw_side(out, c, c->in, -1);
	draw_side(out, c, c->out, 1);
	draw_axes(out, c);
	draw_tiers(out, &c->tiers);
	draw_legend(out, c);
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
