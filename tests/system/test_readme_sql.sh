#!/bin/sh
# test_readme_sql.sh - every ```sql block of README.md runs, unchanged,
# with the sqlite3 shell against a database of known traffic
# (report_fixture2.sql), and the 95th-percentile example gives the number
# nettally's --95th gives for the same window.  Parameters the examples
# use (:since, :until, :last_batch_id) are bound with .param.
set -u
cd "$(dirname "$0")/../.." || exit 1
NETTALLY=${NETTALLY:-${NT_BIN:-${O:-build}}/nettally}
case $NETTALLY in /*) ;; *) NETTALLY=$PWD/$NETTALLY ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_readme_sql.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

if ! command -v sqlite3 > /dev/null 2>&1; then
	echo "Bail out! sqlite3 (the shell) is missing: apt-get install sqlite3"
	exit 1
fi
. tests/system/mkdb.sh
mkdb_build "$tmp"
db=$tmp/db
mkdb_fixture "$db" tests/system/report_fixture2.sql

# Split README.md's sql blocks into $tmp/block.N.
awk -v dir="$tmp" '
	/^```sql$/ { inb = 1; k++; next }
	/^```/ { inb = 0; next }
	inb { print > (dir "/block." k) }
' README.md
nblocks=$(ls "$tmp"/block.* 2>/dev/null | wc -l)
if [ "$nblocks" -ge 2 ]; then
	pass "README.md has $nblocks sql blocks"
else
	fail "README.md has sql blocks"
fi
i=1
while [ -f "$tmp/block.$i" ]; do
	{
		echo '.bail on'
		echo '.param init'
		echo '.param set :since 1795514400'
		echo '.param set :until 1795515600'
		echo '.param set :last_batch_id 0'
		cat "$tmp/block.$i"
	} > "$tmp/run.$i"
	sqlite3 -readonly "$db" < "$tmp/run.$i" > "$tmp/out.$i" 2> "$tmp/err.$i"
	rc=$?
	first=$(grep -m 1 '^--' "$tmp/block.$i" | cut -c 4-60)
	if [ $rc -eq 0 ] && [ ! -s "$tmp/err.$i" ]; then
		pass "sql block $i runs ($first)"
	else
		fail "sql block $i runs ($first)"
		sed 's/^/# /' "$tmp/err.$i"
	fi
	i=$((i + 1))
done

# The 95th percentile example against nettally --95th.
b=$(grep -l '95th percentile' "$tmp"/block.* | head -n 1)
want=$("$NETTALLY" top hosts --db "$db" --since 2026-11-24T10:00:00Z \
    --until 2026-11-24T10:20:00Z --host 10.1.0.1 --95th --format csv |
    tr -d '\r' | awk -F, 'NR == 2 { print $10 }')
got=$(cat "${b%/*}/out.${b##*.}" 2>/dev/null)
if [ -n "$b" ] && [ "$want" = 19000.000 ] &&
    awk -v g="$got" 'BEGIN { exit !(g == 19000) }'; then
	pass "the README's 95th percentile query gives --95th's 19000 bit/s"
else
	fail "the README's 95th percentile query gives --95th's value"
	echo "# nettally: $want; README query: $got"
fi
# The top talkers query finds the fixture's busiest host.
b=$(grep -l 'Top talkers' "$tmp"/block.* | head -n 1)
if [ -n "$b" ]; then
	sed 's/strftime(.%s.,.now.) - 3600/1795514400/' "$b" > "$tmp/talk"
	top=$(sqlite3 -readonly -csv "$db" < "$tmp/talk" | head -n 1)
	if [ "$top" = "10.1.0.2,9000000,6000" ]; then
		pass "top talkers: 10.1.0.2 with 9000000 bytes in 6000 packets"
	else
		fail "top talkers: got '$top'"
	fi
fi

echo "1..$n"
[ $failed -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
exit 0
