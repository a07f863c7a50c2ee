/*
 * conf.c - read a "key = value" configuration file into option words.
 *
 * The file never gets a parser of its own for values: each line becomes
 * one word "--key=value" (or "--key" for a yes), inserted between argv[0]
 * and the command line, and the program's getopt_long loop checks it
 * like any argument.  So every long option is a key, the rules for a
 * value are the same in both places, and adding an option to a program
 * adds it to its file.
 *
 * Invariants: a word from the file is always one "--key[=value]" word,
 * so a program that fails on a value can name the file and line
 * (conf_where); lines are bounded (CONF_LINE_MAX); keys of options given
 * on the command line are dropped whole, so flags win; only a regular
 * file is read, so reading it never blocks.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define CONF_WORDS_MAX	4096	/* lines that become words, per file */

/* A key that the file gives, pending the merge. */
struct conf_entry {
	char	*word;		/* "--key=value" or "--key" */
	int	 line;
	int	 opt;		/* index in longopts */
};

static const char *conf_kind(mode_t);
static int	 conf_is_null(const struct stat *);
static int	 conf_skip_bom(int);
static int	 conf_open(const char *, int, FILE **, char *, size_t);
static char	*conf_trim(char *);
static const char *conf_shown(const char *, size_t, char *, size_t);
static int	 conf_bom_inside(const char *, int, const char *, char *,
		    size_t);
static int	 conf_find(const struct option *, const char *, size_t);
static int	 conf_bool(const char *);
static int	 conf_scan(const char *, const struct option *, int, char **,
		    unsigned char *, const char **, char *, size_t);
static int	 conf_read(FILE *, const char *, const struct option *,
		    struct conf_entry **, size_t *, char *, size_t);
static int	 conf_line(char *, int, const char *, const struct option *,
		    struct conf_entry *, int *, char *, size_t);

/* What a file that is not a regular one is, for the error. */
static const char *
conf_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}

/*
 * Whether sb is /dev/null's: "--config /dev/null" is the usual way to run
 * without the default file, and reading it ends at once.
 */
static int
conf_is_null(const struct stat *sb)
{
	struct stat null;

	return S_ISCHR(sb->st_mode) && stat("/dev/null", &null) == 0 &&
	    S_ISCHR(null.st_mode) && null.st_rdev == sb->st_rdev;
}

/*
 * Moves fd past a UTF-8 byte-order mark at the very start, as Windows
 * editors write one: it was read as part of the first key.  Only there:
 * a mark anywhere else stays a byte of its line.  Returns 0, or -1 with
 * errno.
 */
static int
conf_skip_bom(int fd)
{
	static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };
	unsigned char head[sizeof(bom)];
	ssize_t n;

	if ((n = pread(fd, head, sizeof(head), 0)) == -1)
		return -1;
	if (n == (ssize_t)sizeof(bom) && memcmp(head, bom, sizeof(bom)) == 0 &&
	    lseek(fd, (off_t)sizeof(bom), SEEK_SET) == -1)
		return -1;
	return 0;
}

/*
 * Opens path, a regular file, into *f; named says --config gave it, so
 * that it must exist (else *f stays NULL when it does not).  A FIFO hung
 * the program in open or read, a directory failed with "read error: Is
 * a directory": both are refused before any read, without blocking.
 * Returns 0, or -1 with err.
 */
static int
conf_open(const char *path, int named, FILE **f, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	*f = NULL;
	/* No wait for a FIFO's writer, no terminal taken: see fstat next. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		if (!named && errno == ENOENT)
			return 0;
		goto unreadable;
	}
	if (fstat(fd, &sb) == -1)
		goto unreadable;
	if (!S_ISREG(sb.st_mode) && !conf_is_null(&sb)) {
		snprintf(err, errlen, "%s: not a regular file (%s); %s "
		    "regular file of \"key = value\" lines%s", path,
		    conf_kind(sb.st_mode), named ? "--config takes a" :
		    "make it a", named ? "" : ", or name another with "
		    "--config");
		close(fd);
		return -1;
	}
	/* O_NONBLOCK does nothing to a regular file: reads stay plain. */
	if (conf_skip_bom(fd) == -1 || (*f = fdopen(fd, "r")) == NULL)
		goto unreadable;
	return 0;
unreadable:
	snprintf(err, errlen, "%s: cannot read: %s%s", path, strerror(errno),
	    named ? "" : "; name another file with --config");
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * s as an error shows it: at most max of its bytes, a byte that is not
 * printable ASCII as \xNN (raw, a control or a stray UTF-8 byte is
 * invisible or garbles the terminal), "..." when cut.  out must hold
 * 4 * max + 4 bytes.
 */
static const char *
conf_shown(const char *s, size_t max, char *out, size_t outlen)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; s[i] != '\0' && i < max && o + 5 <= outlen; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02X",
			    c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (s[i] != '\0' && o + 4 <= outlen)
		memcpy(out + o, "...", 4);
	return out;
}

/*
 * A byte-order mark is skipped at the start of the file only; elsewhere
 * (a second one, or one pasted mid-file) it is invisible in an editor
 * and in a quoted key, so the error names it.  Returns -1 with err if s
 * holds one, else 0.
 */
static int
conf_bom_inside(const char *s, int n, const char *path, char *err,
    size_t errlen)
{
	if (strstr(s, "\xef\xbb\xbf") == NULL)
		return 0;
	snprintf(err, errlen, "%s:%d: a UTF-8 byte-order mark (bytes EF BB "
	    "BF) inside the line; remove it (one is allowed only as the "
	    "file's first bytes)", path, n);
	return -1;
}

/* Cuts leading and trailing white space; returns the first non-blank. */
static char *
conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Index of the long option named by the len bytes at name, or -1. */
static int
conf_find(const struct option *lo, const char *name, size_t len)
{
	int i;

	for (i = 0; lo[i].name != NULL; i++)
		if (strlen(lo[i].name) == len &&
		    memcmp(lo[i].name, name, len) == 0)
			return i;
	return -1;
}

/* 1 for yes, 0 for no, -1 for neither. */
static int
conf_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Runs getopt_long over a copy of the command line, silently, to learn
 * which options it gives (given[i] for longopts[i]) and the --config
 * argument.  Returns 0, or -1 without memory.
 */
static int
conf_scan(const char *optstring, const struct option *lo, int argc,
    char **argv, unsigned char *given, const char **config, char *err,
    size_t errlen)
{
	char **copy;
	int ch, idx, i, saved_opterr = opterr;

	if ((copy = calloc((size_t)argc + 1, sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	*config = NULL;
	opterr = 0;
	optind = 0;
	for (;;) {
		idx = -1;
		ch = getopt_long(argc, copy, optstring, lo, &idx);
		if (ch == -1)
			break;
		if (ch == '?' || ch == ':')
			continue;	/* the real parse reports it */
		if (idx < 0)		/* a short option: its long twin */
			for (i = 0; lo[i].name != NULL; i++)
				if (lo[i].flag == NULL && lo[i].val == ch) {
					idx = i;
					break;
				}
		if (idx < 0)
			continue;
		given[idx] = 1;
		if (strcmp(lo[idx].name, "config") == 0)
			*config = optarg;
	}
	opterr = saved_opterr;
	optind = 0;
	free(copy);
	return 0;
}

/*
 * Parses one line (no newline) into e.  Returns 1 with e filled, 0 for a
 * line that says nothing, or -1 with err.
 */
static int
conf_line(char *raw, int n, const char *path, const struct option *lo,
    struct conf_entry *e, int *skip, char *err, size_t errlen)
{
	char *s, *eq, *key, *val, shown[4 * 64 + 4];
	size_t klen;
	int i, b;

	*skip = 0;
	s = conf_trim(raw);
	if (*s == '\0' || *s == '#')
		return 0;
	if ((eq = strchr(s, '=')) == NULL) {
		if (conf_bom_inside(s, n, path, err, errlen) == -1)
			return -1;
		snprintf(err, errlen, "%s:%d: not \"key = value\": %s", path,
		    n, conf_shown(s, 40, shown, sizeof(shown)));
		return -1;
	}
	*eq = '\0';
	key = conf_trim(s);
	val = conf_trim(eq + 1);
	klen = strlen(key);
	for (i = 0; key[i] != '\0'; i++)
		if (!islower((unsigned char)key[i]) &&
		    !isdigit((unsigned char)key[i]) && key[i] != '-')
			break;
	if (klen == 0 || key[i] != '\0' ||
	    (i = conf_find(lo, key, klen)) == -1) {
		if (conf_bom_inside(key, n, path, err, errlen) == -1)
			return -1;
		snprintf(err, errlen, "%s:%d: unknown key \"%s\" (the keys "
		    "are the long options, without the dashes)", path, n,
		    conf_shown(key, 64, shown, sizeof(shown)));
		return -1;
	}
	if (strcmp(key, "config") == 0 || strcmp(key, "help") == 0 ||
	    strcmp(key, "version") == 0) {
		snprintf(err, errlen, "%s:%d: \"%s\" is not a configuration "
		    "key", path, n, key);
		return -1;
	}
	e->opt = i;
	e->line = n;
	switch (lo[i].has_arg) {
	case no_argument:
		if ((b = conf_bool(val)) == -1) {
			snprintf(err, errlen, "%s:%d: %s: \"%s\" is not yes "
			    "or no", path, n, key,
			    conf_shown(val, 40, shown, sizeof(shown)));
			return -1;
		}
		if (b == 0) {
			*skip = 1;	/* the option's default */
			return 1;
		}
		e->word = malloc(klen + 3);
		if (e->word != NULL)
			snprintf(e->word, klen + 3, "--%s", key);
		break;
	case required_argument:
		if (*val == '\0') {
			snprintf(err, errlen, "%s:%d: %s has no value", path,
			    n, key);
			return -1;
		}
		/* FALLTHROUGH */
	default:
		e->word = malloc(klen + strlen(val) + 4);
		if (e->word != NULL)
			snprintf(e->word, klen + strlen(val) + 4, "--%s%s%s",
			    key, *val != '\0' ? "=" : "", val);
		break;
	}
	if (e->word == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 1;
}

/* Reads every line of f into *entries (*n of them). */
static int
conf_read(FILE *f, const char *path, const struct option *lo,
    struct conf_entry **entries, size_t *n, char *err, size_t errlen)
{
	char buf[CONF_LINE_MAX + 1];
	struct conf_entry e, *grown;
	size_t len, cap = 0;
	int lineno = 0, rc, skip, ch = 0;

	*entries = NULL;
	*n = 0;
	while (ch != EOF) {
		/* One line, byte by byte: a NUL or an endless line is caught. */
		len = 0;
		while ((ch = getc(f)) != EOF && ch != '\n') {
			if (ch == '\0' || len == CONF_LINE_MAX - 1) {
				snprintf(err, errlen, "%s:%d: %s", path,
				    lineno + 1, ch == '\0' ? "NUL byte: not a "
				    "text file" : "line longer than the limit");
				return -1;
			}
			buf[len++] = (char)ch;
		}
		buf[len] = '\0';
		if (ch == EOF && len == 0)
			break;
		lineno++;
		memset(&e, 0, sizeof(e));
		if ((rc = conf_line(buf, lineno, path, lo, &e, &skip, err,
		    errlen)) == -1)
			return -1;
		if (rc == 0)
			continue;
		if (*n == CONF_WORDS_MAX) {
			free(e.word);
			snprintf(err, errlen, "%s:%d: more than %d settings",
			    path, lineno, CONF_WORDS_MAX);
			return -1;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(*entries, cap *
			    sizeof(**entries))) == NULL) {
				free(e.word);
				snprintf(err, errlen, "%s: out of memory",
				    path);
				return -1;
			}
			*entries = grown;
		}
		if (skip)
			e.word = NULL;	/* "no": kept to drop earlier yes */
		(*entries)[(*n)++] = e;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
conf_merge(struct conf *c, const char *defpath, const char *optstring,
    const struct option *lo, int argc, char **argv, char *err, size_t errlen)
{
	struct conf_entry *ent = NULL;
	unsigned char *given = NULL, *seen = NULL;
	const char *config, *path;
	size_t nent = 0, i, j;
	FILE *f = NULL;
	int nopt, k, rc = -1;

	memset(c, 0, sizeof(*c));
	for (nopt = 0; lo[nopt].name != NULL; nopt++)
		continue;
	if ((given = calloc((size_t)nopt + 1, 1)) == NULL ||
	    (seen = calloc((size_t)nopt + 1, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (conf_scan(optstring, lo, argc, argv, given, &config, err,
	    errlen) == -1)
		goto out;
	path = config != NULL ? config : defpath;
	if (path != NULL && conf_open(path, config != NULL, &f, err,
	    errlen) == -1)
		goto out;
	if (f != NULL) {
		if ((c->path = strdup(path)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (conf_read(f, path, lo, &ent, &nent, err, errlen) == -1)
			goto out;
	}
	/* A yes/no key says one thing: its last line. */
	for (i = nent; i-- > 0;) {
		if (lo[ent[i].opt].has_arg != no_argument)
			continue;
		if (seen[ent[i].opt]) {
			free(ent[i].word);
			ent[i].word = NULL;
		}
		seen[ent[i].opt] = 1;
	}
	c->argv = calloc((size_t)argc + nent + 1, sizeof(*c->argv));
	c->line = calloc((size_t)argc + nent + 1, sizeof(*c->line));
	if (c->argv == NULL || c->line == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	k = 0;
	c->argv[k++] = argv[0];
	for (i = 0; i < nent; i++) {
		if (ent[i].word == NULL)
			continue;
		if (given[ent[i].opt]) {	/* the command line wins */
			free(ent[i].word);
			ent[i].word = NULL;
			continue;
		}
		c->line[k] = ent[i].line;
		c->argv[k++] = ent[i].word;
		ent[i].word = NULL;
	}
	for (j = 1; j < (size_t)argc; j++)
		c->argv[k++] = argv[j];
	c->argv[k] = NULL;
	c->argc = k;
	optind = 0;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	for (i = 0; i < nent; i++)
		free(ent[i].word);
	free(ent);
	free(given);
	free(seen);
	if (rc == -1)
		conf_clear(c);
	return rc;
}

const char *
conf_where(const struct conf *c, int argi, char *buf, size_t len)
{
	if (c->path == NULL || argi < 1 || argi >= c->argc ||
	    c->line[argi] == 0)
		return NULL;
	snprintf(buf, len, "%s:%d", c->path, c->line[argi]);
	return buf;
}

void
conf_clear(struct conf *c)
{
	int i;

	if (c == NULL)
		return;
	if (c->argv != NULL && c->line != NULL)
		for (i = 1; i < c->argc; i++)
			if (c->line[i] != 0)
				free(c->argv[i]);
	free(c->argv);
	free(c->line);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
