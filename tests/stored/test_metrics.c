/*
 * test_metrics.c - unit tests of metrics.c's --metrics address parsing:
 * a bare port is loopback, explicit addresses are taken as given and
 * flagged when not loopback, anything else is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "metrics.h"

static void
test_parse_addr(void **state)
{
	static const struct {
		const char	*in;
		int		 family;	/* 0: refused */
		const char	*addr;
		int		 port;
		int		 loopback;
	} cases[] = {
		{ "9469", AF_INET, "127.0.0.1", 9469, 1 },
		{ "127.0.0.1:1", AF_INET, "127.0.0.1", 1, 1 },
		{ "127.1.2.3:65535", AF_INET, "127.1.2.3", 65535, 1 },
		{ "0.0.0.0:9469", AF_INET, "0.0.0.0", 9469, 0 },
		{ "192.0.2.1:80", AF_INET, "192.0.2.1", 80, 0 },
		{ "[::1]:9469", AF_INET6, "::1", 9469, 1 },
		{ "[2001:db8::1]:9469", AF_INET6, "2001:db8::1", 9469, 0 },
		{ "0", 0, NULL, 0, 0 }, { "65536", 0, NULL, 0, 0 },
		{ "", 0, NULL, 0, 0 }, { ":80", 0, NULL, 0, 0 },
		{ "localhost:80", 0, NULL, 0, 0 }, { "::1:80", 0, NULL, 0, 0 },
		{ "[::1]80", 0, NULL, 0, 0 }, { "[::1:80", 0, NULL, 0, 0 },
		{ "1.2.3.4:", 0, NULL, 0, 0 }, { "1.2.3.4:8x", 0, NULL, 0, 0 },
		{ "1.2.3.4:99999999999999999999", 0, NULL, 0, 0 },
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char text[INET6_ADDRSTRLEN];
	const char *errstr;
	size_t i;
	int lo, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lo = -1;
		rc = metrics_parse_addr(cases[i].in, &ss, &lo, &errstr);
		if (cases[i].family == 0) {
			if (rc != -1)
				fail_msg("accepted \"%s\"", cases[i].in);
			continue;
		}
		if (rc != 0)
			fail_msg("refused \"%s\": %s", cases[i].in, errstr);
		assert_int_equal(ss.ss_family, cases[i].family);
		if (cases[i].family == AF_INET) {
			inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
			assert_int_equal(ntohs(sin->sin_port), cases[i].port);
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, text,
			    sizeof(text));
			assert_int_equal(ntohs(sin6->sin6_port), cases[i].port);
		}
		assert_string_equal(text, cases[i].addr);
		assert_int_equal(lo, cases[i].loopback);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
