/*
 * test_log.c - unit tests for proto/log.c: what reaches the terminal.
 *
 * Each case logs one text from outside through log_err with stderr sent
 * to a file, and compares the line written byte for byte: controls and
 * bytes that are not UTF-8 become '?', UTF-8 text stays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* The line log_err("%s", text) writes, into out (NUL-terminated). */
static void
logged(const char *text, char *out, size_t len)
{
	FILE *f = tmpfile();
	int saved;
	size_t n;

	assert_non_null(f);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	log_err("%s", text);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
expect(const char *text, const char *line)
{
	char out[2048];

	logged(text, out, sizeof(out));
	assert_string_equal(out, line);
}

static void
test_controls(void **state)
{
	(void)state;
	expect("plain text, 100 %", "t: plain text, 100 %\n");
	/* A colour escape, a title escape, a line break, a tab, DEL. */
	expect("a\x1b[31mb", "t: a?[31mb\n");
	expect("\x1b]0;owned\x07x", "t: ?]0;owned?x\n");
	expect("one\ntwo\rthree\tfour\x7f", "t: one?two?three?four?\n");
}

static void
test_utf8(void **state)
{
	(void)state;
	/* é, €, 𝄞 and U+00A0 stay; the C1 CSI (U+009B) goes, both bytes. */
	expect("ag\xc3\xabnt \xe2\x82\xac \xf0\x9d\x84\x9e \xc2\xa0",
	    "t: ag\xc3\xabnt \xe2\x82\xac \xf0\x9d\x84\x9e \xc2\xa0\n");
	expect("x\xc2\x9b" "31my", "t: x??31my\n");
	expect("x\xc2\x80y", "t: x??y\n");
	/* A raw 8-bit CSI, a stray continuation byte, a lone lead byte. */
	expect("a\x9b" "b\x80" "c\xc3", "t: a?b?c?\n");
	/* Overlong forms, a surrogate, past U+10FFFF, bytes never used. */
	expect("\xc0\xaf\xe0\x80\xaf", "t: ?????\n");
	expect("\xed\xa0\x80", "t: ???\n");
	expect("\xf4\x90\x80\x80", "t: ????\n");
	expect("\xf5\xfe\xff", "t: ???\n");
	/* A sequence cut short by the next character. */
	expect("\xe2\x82" "A", "t: ??A\n");
}

/* A line past the buffer is cut, and a sequence cut with it goes too. */
static void
test_long(void **state)
{
	char text[1100], out[2048];
	size_t i;

	(void)state;
	for (i = 0; i + 2 < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[i] = '\0';
	logged(text, out, sizeof(out));
	assert_int_equal(strlen(out), 1023);
	assert_int_equal(out[1022], '\n');
	/* "t: " then 509 whole é and the lead byte of the next, cut. */
	assert_int_equal(out[1021], '?');
	assert_memory_equal(out + 1019, "\xc3\xa9", 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_long),
	};

	log_init("t", LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
