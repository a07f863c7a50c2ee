/*
 * test_conf.c - unit tests for proto/conf.c: configuration files merged
 * into the command line.
 *
 * Each case writes a file, merges it with a command line through a small
 * getopt table shaped like the agent's (short twins, a repeatable
 * option, yes/no options), and checks the merged words, what getopt then
 * reads from them, or the exact error line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

enum { O_FLUSH = 256, O_NOSECCOMP, O_CONFIG, O_DEBUG };

static const char optstring[] = "+i:n:s:vh";
static const struct option longopts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "local", required_argument, NULL, 'n' },
	{ "socket", required_argument, NULL, 's' },
	{ "flush", required_argument, NULL, O_FLUSH },
	{ "no-seccomp", no_argument, NULL, O_NOSECCOMP },
	{ "debug-level", optional_argument, NULL, O_DEBUG },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define BOM	"\xef\xbb\xbf"	/* UTF-8 byte-order mark */

static char	path[64];

/* Writes text to a fresh temporary file named in path. */
static void
write_file(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/nettally-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Merges text (a file) with the NULL-terminated words of a command. */
static int
merge(struct conf *c, const char *text, char *err, size_t errlen, ...)
{
	char *argv[32];
	va_list ap;
	int argc = 0, rc;

	argv[argc++] = (char *)"prog";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	if (text != NULL)
		write_file(text, strlen(text));
	err[0] = '\0';
	rc = conf_merge(c, text != NULL ? path : "/nonexistent/nettally.conf",
	    optstring, longopts, argc, argv, err, errlen);
	if (text != NULL)
		unlink(path);
	return rc;
}

/* The merged words joined by spaces, without argv[0]. */
static const char *
words(const struct conf *c)
{
	static char buf[1024];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 1; i < c->argc; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i > 1 ? " " : "", c->argv[i]);
	return buf;
}

static void
test_no_file(void **state)
{
	struct conf c;
	char err[256];

	(void)state;
	assert_int_equal(merge(&c, NULL, err, sizeof(err), "-i", "eth0",
	    NULL), 0);
	assert_null(c.path);
	assert_string_equal(words(&c), "-i eth0");
	conf_clear(&c);
	conf_clear(&c);		/* twice is harmless */
}

static void
test_keys_comments_space(void **state)
{
	struct conf c;
	char err[256], where[128];
	const char *w;

	(void)state;
	assert_int_equal(merge(&c,
	    "# a comment\n"
	    "\n"
	    "   socket   =   /run/x.sock  \r\n"
	    "\t# indented comment\n"
	    "flush=250\n"
	    "local = 10.0.0.0/8\n"
	    "local = fd00::/8\n"
	    "verbose = yes\n"
	    "no-seccomp = no\n"
	    "debug-level =\n"
	    "interface = eth1",			/* no final newline */
	    err, sizeof(err), NULL), 0);
	assert_string_equal(words(&c), "--socket=/run/x.sock --flush=250 "
	    "--local=10.0.0.0/8 --local=fd00::/8 --verbose --debug-level "
	    "--interface=eth1");
	/* Each word knows its line; the command line's do not. */
	w = conf_where(&c, 1, where, sizeof(where));
	assert_non_null(w);
	assert_non_null(strstr(w, ":3"));
	w = conf_where(&c, 2, where, sizeof(where));
	assert_non_null(strstr(w, ":5"));
	assert_null(conf_where(&c, 0, where, sizeof(where)));
	assert_null(conf_where(&c, c.argc, where, sizeof(where)));
	conf_clear(&c);
}

static void
test_flags_win(void **state)
{
	struct conf c;
	char err[256];

	(void)state;
	/* Short and long forms both count; a repeatable key is replaced. */
	assert_int_equal(merge(&c,
	    "socket = /file.sock\n"
	    "local = 10.0.0.0/8\n"
	    "local = 172.16.0.0/12\n"
	    "flush = 100\n"
	    "interface = eth9\n",
	    err, sizeof(err), "-s", "/cmd.sock", "--local=192.168.0.0/16",
	    "-i", "eth0", "udp", "port", "53", NULL), 0);
	assert_string_equal(words(&c), "--flush=100 -s /cmd.sock "
	    "--local=192.168.0.0/16 -i eth0 udp port 53");
	conf_clear(&c);
}

/* What getopt_long reads from the merged words, in order. */
static void
test_getopt_reads_merged(void **state)
{
	struct conf c;
	char err[256], got[512];
	size_t off = 0;
	int ch;

	(void)state;
	assert_int_equal(merge(&c, "flush = 300\nno-seccomp = yes\n"
	    "local = 10.0.0.0/8\n", err, sizeof(err), "-n", "fc00::/7",
	    "-v", "tcp", NULL), 0);
	while ((ch = getopt_long(c.argc, c.argv, optstring, longopts,
	    NULL)) != -1)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%d=%s ",
		    ch, optarg != NULL ? optarg : "-");
	assert_string_equal(got, "256=300 257=- 110=fc00::/7 118=- ");
	assert_int_equal(c.argc - optind, 1);
	assert_string_equal(c.argv[optind], "tcp");
	conf_clear(&c);
}

static void
test_last_yes_no_wins(void **state)
{
	struct conf c;
	char err[256];

	(void)state;
	assert_int_equal(merge(&c, "verbose = yes\nverbose = off\n"
	    "no-seccomp = 0\nno-seccomp = TRUE\n", err, sizeof(err), NULL), 0);
	assert_string_equal(words(&c), "--no-seccomp");
	conf_clear(&c);
}

static void
test_config_option(void **state)
{
	struct conf c;
	char err[256], file[64];

	(void)state;
	write_file("flush = 42\n", 11);
	snprintf(file, sizeof(file), "%s", path);
	/* --config FILE and --config=FILE, and the default is not read. */
	assert_int_equal(conf_merge(&c, "/nonexistent/x.conf", optstring,
	    longopts, 3, (char *[]){ "prog", "--config", file, NULL }, err,
	    sizeof(err)), 0);
	assert_int_equal(c.argc, 4);
	assert_string_equal(c.argv[1], "--flush=42");
	assert_string_equal(c.argv[2], "--config");
	assert_string_equal(c.argv[3], file);
	assert_string_equal(c.path, file);
	conf_clear(&c);
	snprintf(err, sizeof(err), "--config=%s", file);
	assert_int_equal(conf_merge(&c, "/nonexistent/x.conf", optstring,
	    longopts, 2, (char *[]){ "prog", err, NULL }, err, sizeof(err)),
	    0);
	assert_string_equal(c.argv[1], "--flush=42");
	conf_clear(&c);
	unlink(file);
	/* A named file must exist; the default may be missing. */
	assert_int_equal(conf_merge(&c, "/nonexistent/x.conf", optstring,
	    longopts, 3, (char *[]){ "prog", "--config", file, NULL }, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, "No such file"));
	assert_null(c.argv);
}

/* Each bad line: the exact message, naming the file and line. */
static void
test_errors(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*msg;
	} bad[] = {
		{ "flush 300\n", 1, "not \"key = value\": flush 300" },
		{ "# ok\nsockett = /x\n", 2, "unknown key \"sockett\" (the keys "
		    "are the long options, without the dashes)" },
		{ "Socket = /x\n", 1, "unknown key \"Socket\"" },
		{ "--socket = /x\n", 1, "unknown key \"--socket\"" },
		{ "= 5\n", 1, "unknown key \"\"" },
		{ "\n\nflush =\n", 3, "flush has no value" },
		{ "verbose = maybe\n", 1, "verbose: \"maybe\" is not yes or no" },
		{ "config = /etc/other.conf\n", 1, "\"config\" is not a "
		    "configuration key" },
		{ "help = yes\n", 1, "\"help\" is not a configuration key" },
	};
	struct conf c;
	char err[256], want[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(merge(&c, bad[i].text, err, sizeof(err),
		    NULL), -1);
		snprintf(want, sizeof(want), "%s:%d: %s", path, bad[i].line,
		    bad[i].msg);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			    want);
		assert_null(c.argv);
		conf_clear(&c);
	}
}

static void
test_long_line_and_nul(void **state)
{
	struct conf c;
	char err[256], text[CONF_LINE_MAX + 64];

	(void)state;
	/* The longest line accepted, then one byte more. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "socket = /", 10);
	text[CONF_LINE_MAX - 1] = '\n';
	write_file(text, CONF_LINE_MAX);
	assert_int_equal(conf_merge(&c, path, optstring, longopts, 1,
	    (char *[]){ "prog", NULL }, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.argv[1]), CONF_LINE_MAX - 1 - 9 + 9);
	conf_clear(&c);
	unlink(path);
	text[CONF_LINE_MAX - 1] = 'a';
	text[CONF_LINE_MAX] = '\n';
	write_file(text, CONF_LINE_MAX + 1);
	assert_int_equal(conf_merge(&c, path, optstring, longopts, 1,
	    (char *[]){ "prog", NULL }, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: line longer than the limit"));
	unlink(path);
	write_file("flush = 1\nsocket = /a\0b\n", 24);
	assert_int_equal(conf_merge(&c, path, optstring, longopts, 1,
	    (char *[]){ "prog", NULL }, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: NUL byte"));
	unlink(path);
}

static void
test_unreadable(void **state)
{
	struct conf c;
	char err[256];

	(void)state;
	/* A directory where the default file should be: an error. */
	assert_int_equal(conf_merge(&c, "/tmp", optstring, longopts, 1,
	    (char *[]){ "prog", NULL }, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: not a regular file (a directory); "
	    "make it a regular file of \"key = value\" lines, or name "
	    "another with --config");
	assert_null(c.argv);
}

/*
 * --config naming a directory, a FIFO or a device other than /dev/null:
 * refused at once, the path and its kind named.  A FIFO hung the program in open: the alarm
 * turns a hang into a failure.
 */
static void
test_not_regular(void **state)
{
	static const char *const kind[] = { "a directory", "a FIFO",
	    "a device" };
	char dir[] = "/tmp/nettally-conf.XXXXXX", fifo[64], err[256];
	char want[256], *named[3];
	struct conf c;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	named[0] = dir;
	named[1] = fifo;
	named[2] = "/dev/zero";
	alarm(10);
	for (i = 0; i < 3; i++) {
		assert_int_equal(conf_merge(&c, "/nonexistent/x.conf",
		    optstring, longopts, 3, (char *[]){ "prog", "--config",
		    named[i], NULL }, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s: not a regular file (%s); "
		    "--config takes a regular file of \"key = value\" lines",
		    named[i], kind[i]);
		assert_string_equal(err, want);
		assert_null(c.argv);
	}
	/* /dev/null is the one device taken: an empty file, no words. */
	assert_int_equal(conf_merge(&c, "/nonexistent/x.conf", optstring,
	    longopts, 3, (char *[]){ "prog", "--config", "/dev/null", NULL },
	    err, sizeof(err)), 0);
	assert_string_equal(words(&c), "--config /dev/null");
	conf_clear(&c);
	alarm(0);
	unlink(fifo);
	rmdir(dir);
}

/* The error for a byte-order mark on line n of file. */
static const char *
bom_inside(char *want, size_t len, const char *file, int n)
{
	snprintf(want, len, "%s:%d: a UTF-8 byte-order mark (bytes EF BB BF) "
	    "inside the line; remove it (one is allowed only as the file's "
	    "first bytes)", file, n);
	return want;
}

/* A byte-order mark at the start is skipped; anywhere else, a byte. */
static void
test_bom(void **state)
{
	struct conf c;
	char err[256], want[256];

	(void)state;
	assert_int_equal(merge(&c, BOM "flush = 5\nsocket = /x\n", err,
	    sizeof(err), NULL), 0);
	assert_string_equal(words(&c), "--flush=5 --socket=/x");
	conf_clear(&c);
	assert_int_equal(merge(&c, BOM "# a comment\n", err, sizeof(err),
	    NULL), 0);
	assert_string_equal(words(&c), "");
	conf_clear(&c);
	/* A file that is the mark alone, or a part of it. */
	assert_int_equal(merge(&c, BOM, err, sizeof(err), NULL), 0);
	assert_string_equal(words(&c), "");
	conf_clear(&c);
	assert_int_equal(merge(&c, "\xef\xbb", err, sizeof(err), NULL), -1);
	assert_non_null(strstr(err, ":1: not \"key = value\""));
	/* Once only, and at the start of the file only. */
	assert_int_equal(merge(&c, BOM BOM "flush = 5\n", err, sizeof(err),
	    NULL), -1);
	assert_string_equal(err, bom_inside(want, sizeof(want), path, 1));
	assert_int_equal(merge(&c, "flush = 5\n" BOM "socket = /x\n", err,
	    sizeof(err), NULL), -1);
	assert_string_equal(err, bom_inside(want, sizeof(want), path, 2));
	/* In a line without "=", too. */
	assert_int_equal(merge(&c, "flush = 5\n" BOM "\n", err,
	    sizeof(err), NULL), -1);
	snprintf(want, sizeof(want), "%s:2: a UTF-8 byte-order mark", path);
	assert_non_null(strstr(err, want));
	/* Other bytes that would be invisible are shown escaped. */
	assert_int_equal(merge(&c, "fl\x01ush = 5\n", err, sizeof(err),
	    NULL), -1);
	snprintf(want, sizeof(want), "%s:1: unknown key \"fl\\x01ush\" (the "
	    "keys are the long options, without the dashes)", path);
	assert_string_equal(err, want);
	assert_int_equal(merge(&c, "\xef\xbb", err, sizeof(err), NULL), -1);
	snprintf(want, sizeof(want), "%s:1: not \"key = value\": "
	    "\\xEF\\xBB", path);
	assert_string_equal(err, want);
	assert_int_equal(merge(&c, "flush = 5 " BOM "\n", err, sizeof(err),
	    NULL), 0);
	assert_string_equal(words(&c), "--flush=5 " BOM);
	conf_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_file),
		cmocka_unit_test(test_keys_comments_space),
		cmocka_unit_test(test_flags_win),
		cmocka_unit_test(test_getopt_reads_merged),
		cmocka_unit_test(test_last_yes_no_wins),
		cmocka_unit_test(test_config_option),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_bom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
