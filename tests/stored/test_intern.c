/*
 * test_intern.c - unit tests of intern.c against an in-memory address
 * table: ids from the cache, from an INSERT, and from the table when the
 * cache has lost them (evicted, forgotten after a rollback); one row per
 * distinct address however often a batch names it; failures reported
 * with the statement that failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "intern.h"

/* More addresses than the cache holds (32768 sets of 4). */
#define T_MANY	300000

struct fixture {
	sqlite3		*db;
	struct intern	*in;
};

static int
setup(void **state)
{
	struct fixture *f;
	const char *errstr;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    sqlite3_open(":memory:", &f->db) != SQLITE_OK ||
	    sqlite3_exec(f->db, "CREATE TABLE address (id INTEGER PRIMARY KEY,"
	    " addr BLOB NOT NULL UNIQUE, family INTEGER NOT NULL,"
	    " text TEXT NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    (f->in = intern_new(f->db, &errstr)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	intern_free(f->in);
	sqlite3_close(f->db);
	free(f);
	return 0;
}

static int64_t
count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* IPv4 address number i (distinct for distinct i). */
static struct proto_addr
v4(uint32_t i)
{
	struct proto_addr a;

	memset(&a, 0, sizeof(a));
	a.family = PROTO_AF_INET;
	a.a[0] = 10;
	a.a[1] = (uint8_t)(i >> 16);
	a.a[2] = (uint8_t)(i >> 8);
	a.a[3] = (uint8_t)i;
	return a;
}

static void
resolve(struct fixture *f)
{
	sqlite3_stmt *failed = NULL;
	const char *why = NULL;

	assert_int_equal(intern_resolve(f->in, &failed, &why), 0);
}

/*
 * Asks for n addresses from number first on, resolves, returns their ids
 * (the caller frees them).
 */
static int64_t *
ask(struct fixture *f, uint32_t first, size_t n)
{
	struct proto_addr a;
	int64_t *id;
	size_t i;

	assert_non_null(id = calloc(n, sizeof(*id)));
	assert_int_equal(intern_reserve(f->in, n), 0);
	for (i = 0; i < n; i++) {
		a = v4(first + (uint32_t)i);
		assert_in_range(intern_id(f->in, &a, &id[i]), 0, 1);
	}
	resolve(f);
	return id;
}

/*
 * Asks for n addresses from number 0 on in a transaction that is rolled
 * back, forgets the cache as the writer would, and has another writer
 * insert 255.255.255.255, which takes id 1: the ids handed out (returned,
 * for the caller to free) now name nothing or another address.
 */
static int64_t *
ask_rolled_back(struct fixture *f, size_t n)
{
	int64_t *id;

	assert_int_equal(sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	id = ask(f, 0, n);
	assert_int_equal(sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	intern_forget(f->in);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO address (addr,"
	    " family, text) VALUES (x'04ffffffff', 4, '255.255.255.255')",
	    NULL, NULL, NULL), SQLITE_OK);
	return id;
}

/* New, then cached: the same id, one row, with the address's text. */
static void
test_new_then_cached(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a = v4(0x010203), six, none;
	int64_t id = 0, again = 0, id6 = 0, id0 = 0;

	memset(&six, 0, sizeof(six));
	six.family = PROTO_AF_INET6;
	six.a[0] = 0x20;
	six.a[1] = 0x01;
	six.a[15] = 1;
	memset(&none, 0, sizeof(none));
	none.family = PROTO_AF_NONE;
	assert_int_equal(intern_reserve(f->in, 3), 0);
	assert_int_equal(intern_id(f->in, &a, &id), 1);
	assert_int_equal(intern_id(f->in, &six, &id6), 1);
	assert_int_equal(intern_id(f->in, &none, &id0), 1);
	resolve(f);
	assert_true(id > 0 && id6 > 0 && id0 > 0);
	assert_true(id != id6 && id != id0 && id6 != id0);
	assert_int_equal(intern_id(f->in, &a, &again), 0);
	assert_int_equal(again, id);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " text = '10.1.2.3' AND family = 4 AND addr = x'040a010203'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " text = '2001::1' AND family = 6"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " text = 'overflow' AND family = 0 AND addr = x'00'"), 1);
}

/*
 * Questions past the room intern_reserve made are refused, not written
 * past it; a cached address still answers, and the queued ones resolve.
 */
static void
test_room_full(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a = v4(0x010203), b = v4(0x010204), c = v4(0x010205);
	int64_t ida = 0, idb = 0, idc = 0, again = 0;

	assert_int_equal(intern_reserve(f->in, 1), 0);
	assert_int_equal(intern_id(f->in, &a, &ida), 1);
	resolve(f);
	assert_int_equal(intern_reserve(f->in, 2), 0);
	assert_int_equal(intern_id(f->in, &b, &idb), 1);
	assert_int_equal(intern_id(f->in, &c, &idc), 1);
	assert_int_equal(intern_id(f->in, &c, &again), -2);
	assert_int_equal(intern_id(f->in, &a, &again), 0);
	assert_int_equal(again, ida);
	resolve(f);
	assert_true(idb > 0 && idc > 0 && idb != idc && idb != ida);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 3);
}

/* A batch naming one new address in many records: one row, one id. */
static void
test_duplicates_in_one_batch(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a = v4(7), b = v4(8);
	int64_t id[6];
	size_t i;

	assert_int_equal(intern_reserve(f->in, 6), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(intern_id(f->in, i % 2 ? &b : &a, &id[i]), 1);
	resolve(f);
	for (i = 2; i < 6; i++)
		assert_int_equal(id[i], id[i % 2]);
	assert_true(id[0] != id[1]);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 2);
}

/*
 * More addresses than the cache holds, then all of them again: the
 * evicted ones come from the table, every id as the first time, no row
 * added.  Then the cache forgotten (a rollback): the same again.
 */
static void
test_evicted_and_forgotten(void **state)
{
	struct fixture *f = *state;
	int64_t *first, *again;
	size_t i;

	first = ask(f, 0, T_MANY);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), T_MANY);
	assert_int_equal(count(f, "SELECT count(DISTINCT id) FROM address"),
	    T_MANY);
	again = ask(f, 0, T_MANY);
	for (i = 0; i < T_MANY; i++)
		if (again[i] != first[i])
			fail_msg("address %zu: id %lld, was %lld", i,
			    (long long)again[i], (long long)first[i]);
	free(again);
	intern_forget(f->in);
	again = ask(f, 0, T_MANY);
	assert_memory_equal(again, first, T_MANY * sizeof(*first));
	assert_int_equal(count(f, "SELECT count(*) FROM address"), T_MANY);
	free(again);
	free(first);
}

/*
 * Ids handed out in a transaction that is rolled back, then forgotten:
 * the same ids now name other addresses, and asking again must not give
 * them out from the cache.
 */
static void
test_rollback_forgotten(void **state)
{
	struct fixture *f = *state;
	int64_t *first, *again;

	first = ask_rolled_back(f, 100);
	again = ask(f, 0, 100);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 101);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " id = (SELECT max(id) FROM address) AND text = '10.0.0.99'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " text = '255.255.255.255' AND id = 1"), 1);
	free(again);
	free(first);
}

/*
 * A rollback's ids forgotten, then other addresses cached over the same
 * memory: the first ones are asked for again and none comes from the
 * cache (a put into a block of the cache must not bring back what the
 * block held before it was forgotten); the ids they get now name them.
 */
static void
test_forgotten_stays_forgotten(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a;
	int64_t *first, *other, id[2000];
	char sql[160];
	size_t i;

	first = ask_rolled_back(f, 2000);
	other = ask(f, 100000, 100000);
	assert_int_equal(intern_reserve(f->in, 2000), 0);
	for (i = 0; i < 2000; i++) {
		a = v4((uint32_t)i);
		if (intern_id(f->in, &a, &id[i]) != 1)
			fail_msg("address %zu answered from a forgotten cache",
			    i);
	}
	resolve(f);
	for (i = 0; i < 2000; i += 199) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM address WHERE"
		    " id = %lld AND text = '10.0.%zu.%zu'", (long long)id[i],
		    i >> 8, i & 0xff);
		assert_int_equal(count(f, sql), 1);
	}
	free(other);
	free(first);
}

/*
 * IPv6 keys that differ only past the first word, or in the last byte,
 * are different addresses: distinct ids, in one batch and from the cache.
 */
static void
test_v6_late_bytes(void **state)
{
	static const int at[] = { 15, 8, 7 };
	struct fixture *f = *state;
	struct proto_addr a[4];
	int64_t id[4], again;
	size_t i, j;

	for (i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].family = PROTO_AF_INET6;
		a[i].a[0] = 0x20;
		a[i].a[1] = 0x01;
		if (i > 0)
			a[i].a[at[i - 1]] = 1;
	}
	assert_int_equal(intern_reserve(f->in, 4), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(intern_id(f->in, &a[i], &id[i]), 1);
	resolve(f);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			assert_true(id[i] != id[j]);
	for (i = 0; i < 4; i++) {
		assert_int_equal(intern_id(f->in, &a[i], &again), 0);
		assert_int_equal(again, id[i]);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 4);
}

/*
 * The overflow address's key is all zero bytes, as an empty cache entry's:
 * asked for in a cache whose every block holds addresses, it is queued, not
 * answered from an empty way.
 */
static void
test_overflow_not_empty_way(void **state)
{
	struct fixture *f = *state;
	struct proto_addr none;
	int64_t *many, id = -1;

	many = ask(f, 0, 100000);
	memset(&none, 0, sizeof(none));
	none.family = PROTO_AF_NONE;
	assert_int_equal(intern_reserve(f->in, 1), 0);
	assert_int_equal(intern_id(f->in, &none, &id), 1);
	resolve(f);
	assert_true(id > 100000);
	free(many);
}

/*
 * Statements of 64 new and old addresses mixed: 100 asked, forgotten,
 * then 50 of them and 150 new ones: the old keep their ids, the new get
 * new ones, each once.
 */
static void
test_mixed_old_and_new(void **state)
{
	struct fixture *f = *state;
	int64_t *first, *again;
	size_t i;

	first = ask(f, 0, 100);
	intern_forget(f->in);
	again = ask(f, 50, 200);
	assert_memory_equal(again, first + 50, 50 * sizeof(*first));
	for (i = 50; i < 200; i++)
		assert_true(again[i] > first[99]);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 250);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " text = '10.0.0.249'"), 1);
	free(again);
	free(first);
}

/*
 * An id the intern would give is taken behind its back (another writer):
 * the address it meant for that id still gets a row and an id of its
 * own, every other one the id it was given, each id naming its address.
 */
static void
test_id_taken(void **state)
{
	struct fixture *f = *state;
	int64_t *first, *again;
	char sql[160];
	size_t i;

	/*
	 * The first 64 are looked up key by key (a new cache may face a
	 * full table), the next 64 go in with ids given: the intern now
	 * knows the next free id.
	 */
	first = ask(f, 0, 128);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO address (id, addr,"
	    " family, text) VALUES ((SELECT max(id) + 1 FROM address),"
	    " x'04ffffffff', 4, '255.255.255.255')", NULL, NULL, NULL),
	    SQLITE_OK);
	again = ask(f, 1000, 64);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 193);
	for (i = 0; i < 64; i++) {
		assert_true(again[i] != first[127] + 1);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM address WHERE"
		    " id = %lld AND text = '10.0.%zu.%zu'", (long long)again[i],
		    (1000 + i) >> 8, (1000 + i) & 0xff);
		assert_int_equal(count(f, sql), 1);
	}
	free(again);
	free(first);
}

/*
 * The text of an IPv4 address (written by hand, not by inet_ntop) is
 * inet_ntop's, for every byte width: 0, 9, 10, 99, 100, 255 in each place.
 */
static void
test_v4_text(void **state)
{
	static const uint8_t b[] = { 0, 9, 10, 99, 100, 255 };
	struct fixture *f = *state;
	struct proto_addr a;
	char want[INET_ADDRSTRLEN], sql[160];
	int64_t id[6 * 6 * 6 * 6];
	size_t i, n = 0;

	assert_int_equal(intern_reserve(f->in, 6 * 6 * 6 * 6), 0);
	memset(&a, 0, sizeof(a));
	a.family = PROTO_AF_INET;
	for (i = 0; i < 6 * 6 * 6 * 6; i++) {
		a.a[0] = b[i % 6];
		a.a[1] = b[i / 6 % 6];
		a.a[2] = b[i / 36 % 6];
		a.a[3] = b[i / 216];
		assert_int_equal(intern_id(f->in, &a, &id[n++]), 1);
	}
	resolve(f);
	for (i = 0; i < n; i++) {
		a.a[0] = b[i % 6];
		a.a[1] = b[i / 6 % 6];
		a.a[2] = b[i / 36 % 6];
		a.a[3] = b[i / 216];
		assert_non_null(inet_ntop(AF_INET, a.a, want, sizeof(want)));
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM address"
		    " WHERE id = %lld AND text = '%s'", (long long)id[i], want);
		if (count(f, sql) != 1)
			fail_msg("%s: not the text of id %lld", want,
			    (long long)id[i]);
	}
}

/* A family the decoder never lets through is refused, not queued. */
static void
test_bad_family(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a = v4(1);
	int64_t id = -1;

	a.family = 5;
	assert_int_equal(intern_reserve(f->in, 1), 0);
	assert_int_equal(intern_id(f->in, &a, &id), -1);
	assert_int_equal(id, -1);
	resolve(f);		/* nothing queued */
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 0);
}

/*
 * The insert refused, one address or 64 at once: -1, the failing
 * statement, the trigger's message; not cached.
 */
static void
test_insert_refused(void **state)
{
	struct fixture *f = *state;
	struct proto_addr a;
	sqlite3_stmt *failed;
	const char *why;
	int64_t id[64];
	size_t n, i;

	assert_int_equal(sqlite3_exec(f->db, "CREATE TRIGGER t BEFORE INSERT"
	    " ON address BEGIN SELECT RAISE(ABORT, 'no addresses'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(intern_reserve(f->in, 64), 0);
	for (n = 1; n <= 64; n += 63) {
		for (i = 0; i < n; i++) {
			a = v4((uint32_t)i);
			assert_int_equal(intern_id(f->in, &a, &id[i]), 1);
		}
		failed = NULL;
		assert_int_equal(intern_resolve(f->in, &failed, &why), -1);
		assert_non_null(failed);
		assert_string_equal(sqlite3_errmsg(f->db), "no addresses");
		a = v4(0);
		assert_int_equal(intern_id(f->in, &a, &id[0]), 1);
		intern_forget(f->in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_room_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_then_cached, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_in_one_batch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_evicted_and_forgotten,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_forgotten, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forgotten_stays_forgotten,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_late_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overflow_not_empty_way,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_old_and_new, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_id_taken, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_v4_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_family, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_insert_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
