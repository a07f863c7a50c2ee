/*
 * test_netaddr.c - unit tests for proto/netaddr.c: the one CIDR grammar
 * of the agent's local networks and the reports' host filter.
 *
 * Each case parses a text and checks the family, prefix and masked bytes,
 * or the error; containment is checked at both sides of each boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "netaddr.h"

static void
test_parse_masks(void **state)
{
	static const uint8_t v4[4] = { 192, 168, 0, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x80 };
	struct netaddr n;
	const char *errstr = NULL;

	(void)state;
	assert_int_equal(netaddr_parse("192.168.1.77/23", &n, &errstr), 0);
	assert_int_equal(n.family, 4);
	assert_int_equal(n.prefix, 23);
	assert_memory_equal(n.addr, v4, 4);
	assert_int_equal(netaddr_parse("2001:DB8:ffff::1/33", &n, &errstr), 0);
	assert_int_equal(n.family, 6);
	assert_int_equal(n.prefix, 33);
	assert_memory_equal(n.addr, v6, 16);
	assert_int_equal(netaddr_parse("10.0.0.1", &n, &errstr), 0);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(netaddr_parse("::1", &n, &errstr), 0);
	assert_int_equal(n.prefix, 128);
	assert_int_equal(netaddr_parse("0.0.0.0/0", &n, &errstr), 0);
	assert_int_equal(n.prefix, 0);
}

static void
test_parse_errors(void **state)
{
	static const char *const bad_prefix[] = {
		"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/+8",
		"10.0.0.0/0008", "::/129", "10.0.0.0/ 8",
	};
	static const char *const bad_addr[] = {
		"", "/8", "nonsense", "10.0.0/8", "10.0.0.256",
		"1234567890123456789012345678901234567890123456789/8",
	};
	struct netaddr n;
	const char *errstr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++) {
		errstr = NULL;
		assert_int_equal(netaddr_parse(bad_prefix[i], &n, &errstr), -1);
		assert_string_equal(errstr, "bad prefix length");
	}
	for (i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		errstr = NULL;
		assert_int_equal(netaddr_parse(bad_addr[i], &n, &errstr), -1);
		assert_non_null(errstr);
		assert_string_not_equal(errstr, "bad prefix length");
	}
}

static void
test_contains(void **state)
{
	uint8_t a[16] = { 0 };
	struct netaddr n;
	const char *errstr;
	int family;

	(void)state;
	assert_int_equal(netaddr_parse("172.16.0.0/12", &n, &errstr), 0);
	assert_int_equal(netaddr_parse_host("172.31.255.255", &family, a), 0);
	assert_int_equal(family, 4);
	assert_true(netaddr_contains(&n, family, a));
	assert_int_equal(netaddr_parse_host("172.32.0.0", &family, a), 0);
	assert_false(netaddr_contains(&n, family, a));
	/* The same bytes under the other family never match. */
	assert_int_equal(netaddr_parse_host("172.16.0.1", &family, a), 0);
	assert_false(netaddr_contains(&n, 6, a));

	assert_int_equal(netaddr_parse("fe80::/10", &n, &errstr), 0);
	assert_int_equal(netaddr_parse_host("febf::1", &family, a), 0);
	assert_int_equal(family, 6);
	assert_true(netaddr_contains(&n, family, a));
	assert_int_equal(netaddr_parse_host("fec0::1", &family, a), 0);
	assert_false(netaddr_contains(&n, family, a));

	assert_int_equal(netaddr_parse("0.0.0.0/0", &n, &errstr), 0);
	assert_int_equal(netaddr_parse_host("203.0.113.9", &family, a), 0);
	assert_true(netaddr_contains(&n, family, a));
	assert_int_equal(netaddr_parse_host("not-an-address", &family, a), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_masks),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
