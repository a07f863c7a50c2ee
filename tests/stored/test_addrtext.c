/*
 * test_addrtext.c - addrtext against glibc's inet_ntop, whose text the
 * address table held before: every IPv6 address whose groups are each
 * one of 0, 1, 0xa0b and 0xffff (every placement of zero runs, the ties
 * between runs), 200,000 random ones with zero groups likely, and IPv4
 * addresses of every byte width.  Where inet_ntop writes a dotted quad
 * (IPv4-compatible and -mapped IPv6), RFC 5952 section 4's all-hex text
 * instead, as Python's ipaddress writes it (the reference count's).
 * Then what it refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "addrtext.h"
#include "proto.h"

/*
 * a's text from addrtext equals inet_ntop's, unless inet_ntop has a
 * dotted quad in IPv6 (test_v6_mixed_forms covers those); then it holds
 * no dot.  Returns 1 for such an address.
 */
static int
same_as_ntop(int family, const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[ADDRTEXT_MAX];

	assert_non_null(inet_ntop(family == PROTO_AF_INET ? AF_INET :
	    AF_INET6, a, want, sizeof(want)));
	assert_int_equal(addrtext(family, a, got, sizeof(got)), 0);
	if (family == PROTO_AF_INET6 && strchr(want, '.') != NULL) {
		assert_null(strchr(got, '.'));
		return 1;
	}
	if (strcmp(got, want) != 0)
		fail_msg("addrtext \"%s\", inet_ntop \"%s\"", got, want);
	return 0;
}

/*
 * The IPv4-compatible (::/96) and -mapped (::ffff:0:0/96) addresses and
 * their neighbours, with the text Python 3.11's ipaddress gives them.
 */
static void
test_v6_mixed_forms(void **state)
{
	static const struct {
		const char	*hex;
		const char	*text;
	} v[] = {
		{ "00000000000000000000000000000000", "::" },
		{ "00000000000000000000000000000001", "::1" },
		{ "0000000000000000000000000000ffff", "::ffff" },
		{ "00000000000000000000000000010000", "::1:0" },
		{ "00000000000000000000000094080001", "::9408:1" },
		{ "00000000000000000000000001020304", "::102:304" },
		{ "000000000000000000000000ffffffff", "::ffff:ffff" },
		{ "00000000000000000000ffff00000000", "::ffff:0:0" },
		{ "00000000000000000000ffff00000001", "::ffff:0:1" },
		{ "00000000000000000000ffffc0a80101", "::ffff:c0a8:101" },
		{ "00000000000000000000ffffffffffff", "::ffff:ffff:ffff" },
		{ "00000000000000000000ffff01000000", "::ffff:100:0" },
		{ "00000000000000000000fffe01020304", "::fffe:102:304" },
		{ "00000000000000000001ffff01020304", "::1:ffff:102:304" },
		{ "00000000000000000000000100000000", "::1:0:0" },
		{ "00010000000000000000ffff01020304", "1::ffff:102:304" },
	};
	char got[ADDRTEXT_MAX];
	uint8_t a[16];
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (j = 0; j < 16; j++)
			assert_int_equal(sscanf(v[i].hex + 2 * j, "%2hhx",
			    &a[j]), 1);
		assert_int_equal(addrtext(PROTO_AF_INET6, a, got,
		    sizeof(got)), 0);
		assert_string_equal(got, v[i].text);
	}
}

static void
test_v6_group_patterns(void **state)
{
	static const unsigned int val[] = { 0, 1, 0xa0b, 0xffff };
	uint8_t a[16];
	unsigned int n, k, w;
	int i, mixed = 0;

	(void)state;
	for (n = 0; n < 4 * 4 * 4 * 4 * 4 * 4 * 4 * 4; n++) {
		for (i = 0, k = n; i < 8; i++, k /= 4) {
			w = val[k % 4];
			a[2 * i] = (uint8_t)(w >> 8);
			a[2 * i + 1] = (uint8_t)w;
		}
		mixed += same_as_ntop(PROTO_AF_INET6, a);
	}
	/*
	 * inet_ntop's dotted forms: groups 0-5 zero and 6 not (3 * 4), or
	 * 0-4 zero and 5 ffff (4 * 4).
	 */
	assert_int_equal(mixed, 3 * 4 + 4 * 4);
}

static void
test_v6_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	uint8_t a[16];
	int n, i;

	(void)state;
	for (n = 0; n < 200000; n++) {
		for (i = 0; i < 8; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			/* Half the groups zero, some with one byte set. */
			a[2 * i] = x >> 63 ? 0 : (uint8_t)(x >> 40);
			a[2 * i + 1] = x >> 62 & 1 ? 0 : (uint8_t)(x >> 48);
		}
		(void)same_as_ntop(PROTO_AF_INET6, a);
	}
}

static void
test_v4_widths(void **state)
{
	static const uint8_t b[] = { 0, 9, 10, 99, 100, 255 };
	uint8_t a[4];
	int n, i;

	(void)state;
	for (n = 0; n < 6 * 6 * 6 * 6; n++) {
		for (i = 0; i < 4; i++)
			a[i] = b[n / (i == 0 ? 1 : i == 1 ? 6 : i == 2 ? 36 :
			    216) % 6];
		(void)same_as_ntop(PROTO_AF_INET, a);
	}
	for (n = 0; n < 256; n++) {
		memset(a, n, sizeof(a));
		(void)same_as_ntop(PROTO_AF_INET, a);
	}
}

static void
test_overflow_and_refusals(void **state)
{
	uint8_t a[16] = { 0 };
	char text[ADDRTEXT_MAX];

	(void)state;
	assert_int_equal(addrtext(PROTO_AF_NONE, a, text, sizeof(text)), 0);
	assert_string_equal(text, "overflow");
	assert_int_equal(addrtext(5, a, text, sizeof(text)), -1);
	assert_int_equal(addrtext(PROTO_AF_INET6, a, text, sizeof(text) - 1),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_group_patterns),
		cmocka_unit_test(test_v6_random),
		cmocka_unit_test(test_v6_mixed_forms),
		cmocka_unit_test(test_v4_widths),
		cmocka_unit_test(test_overflow_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
