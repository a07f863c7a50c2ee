/*
 * test_addrtext.c - addrtext against glibc's inet_ntop, whose text the
 * address table held before: every IPv6 address whose groups are each
 * one of 0, 1, 0xa0b and 0xffff (every placement of zero runs, the
 * IPv4-compatible and -mapped forms, the ties between runs), 200,000
 * random ones with zero groups likely, and IPv4 addresses of every byte
 * width; then what it refuses.
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

/* a's text from addrtext equals inet_ntop's. */
static void
same_as_ntop(int family, const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[ADDRTEXT_MAX];

	assert_non_null(inet_ntop(family == PROTO_AF_INET ? AF_INET :
	    AF_INET6, a, want, sizeof(want)));
	assert_int_equal(addrtext(family, a, got, sizeof(got)), 0);
	if (strcmp(got, want) != 0)
		fail_msg("addrtext \"%s\", inet_ntop \"%s\"", got, want);
}

static void
test_v6_group_patterns(void **state)
{
	static const unsigned int val[] = { 0, 1, 0xa0b, 0xffff };
	uint8_t a[16];
	unsigned int n, k, w;
	int i;

	(void)state;
	for (n = 0; n < 4 * 4 * 4 * 4 * 4 * 4 * 4 * 4; n++) {
		for (i = 0, k = n; i < 8; i++, k /= 4) {
			w = val[k % 4];
			a[2 * i] = (uint8_t)(w >> 8);
			a[2 * i + 1] = (uint8_t)w;
		}
		same_as_ntop(PROTO_AF_INET6, a);
	}
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
		same_as_ntop(PROTO_AF_INET6, a);
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
		same_as_ntop(PROTO_AF_INET, a);
	}
	for (n = 0; n < 256; n++) {
		memset(a, n, sizeof(a));
		same_as_ntop(PROTO_AF_INET, a);
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
		cmocka_unit_test(test_v4_widths),
		cmocka_unit_test(test_overflow_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
