#!/bin/sh
# test_report.sh - end-to-end tests of the `nettally` report command.
#
# Builds a fixture database with the store's own schema_migrate
# (report_mkdb.c + report_fixture.sql), runs the real binary for every
# report in every format and compares the FULL output byte for byte, then
# checks each user error: exit status 2, nothing on stdout, exactly the
# expected one line on stderr.  Prints TAP; exits 1 if any test failed.
#
# Environment: NETTALLY (the binary; default $NT_BIN/nettally as set by
# tests/run-tests.sh, else ${O:-build}/nettally), REPORT_MKDB (a prebuilt
# report_mkdb; else built here with ${CC:-cc}).
set -u

cd "$(dirname "$0")/../.." || exit 1
NETTALLY=${NETTALLY:-${NT_BIN:-${O:-build}}/nettally}
case $NETTALLY in /*) ;; *) NETTALLY=$PWD/$NETTALLY ;; esac
if [ ! -x "$NETTALLY" ]; then
	echo "Bail out! $NETTALLY: no such binary; run make first"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
unset NETTALLY_DB

. tests/system/mkdb.sh
mkdb_build "$tmp"
db=$tmp/fixture.db
mkdb_fixture "$db" tests/system/report_fixture.sql
: > "$tmp/empty.db"
echo 'PRAGMA user_version = 999;' | "$MKDB" "$tmp/newer.db" || exit 1
printf 'this is not an SQLite database, just text padding it out a bit\n' \
    > "$tmp/garbage.db"
db_sum=$(cksum < "$db")

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# Turns LF-ended text into CRLF-ended text; @LF@ stands for a bare LF
# inside a quoted field.
crlf() { awk '{ gsub(/@LF@/, "\n"); printf "%s\r\n", $0 }'; }

# check NAME EXPECTED-FILE ARGS...: exit 0, empty stderr, stdout == file.
check() {
	name=$1 expect=$2
	shift 2
	"$NETTALLY" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$expect" "$tmp/out"
	then
		pass "$name"
	else
		fail "$name"
		echo "# exit $rc; stderr: $(cat "$tmp/err")"
		diff "$expect" "$tmp/out" | sed 's/^/# /'
	fi
}

# check_err NAME MESSAGE ARGS...: exit 2, empty stdout, stderr == one line;
# a run that hangs is stopped after 20 s and fails.
check_err() {
	name=$1 msg=$2
	shift 2
	timeout 20 "$NETTALLY" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	printf 'nettally: %s\n' "$msg" > "$tmp/experr"
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && cmp -s "$tmp/experr" "$tmp/err"
	then
		pass "$name"
	else
		fail "$name"
		echo "# exit $rc (want 2); stdout: $(cat "$tmp/out")"
		echo "# want: $(cat "$tmp/experr")"
		echo "# got:  $(cat "$tmp/err")"
	fi
}

W="--db $db --since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z"
# The tiers a report over $W reads: every table names them in closing
# "resolution:" lines, every JSON object in "resolutions".  The fixture's
# 2001:db8::1 row is hourly, the rest 1-minute rows: reports of hosts mix
# both, ports and peers hold raw rows only (peers: 10:00 and 10:01).
RAW="resolution: 1 min (raw tier), 2026-11-25T10:00:00Z .. 2026-11-25T11:00:00Z"
HOURLY="resolution: 1 hour (hourly tier), 2026-11-25T10:00:00Z .. 2026-11-25T11:00:00Z"
J_RAW='{"tier":"raw","resolution":60,"first":"2026-11-25T10:00:00Z","first_epoch":1795600800,"end":"2026-11-25T11:00:00Z","end_epoch":1795604400}'
J_HOURLY='{"tier":"hourly","resolution":3600,"first":"2026-11-25T10:00:00Z","first_epoch":1795600800,"end":"2026-11-25T11:00:00Z","end_epoch":1795604400}'
J_PEERS='{"tier":"raw","resolution":60,"first":"2026-11-25T10:00:00Z","first_epoch":1795600800,"end":"2026-11-25T10:02:00Z","end_epoch":1795600920}'
# json_head REPORT RESOLUTIONS: the first line of a JSON report over $W.
json_head() {
	printf '{"report":"%s","since":"2026-11-25T10:00:00Z","since_epoch":1795600800,"until":"2026-11-25T11:00:00Z","until_epoch":1795604400,"limit":10,"resolutions":[%s],"rows":[\n' "$1" "$2"
}

# --- hosts ---------------------------------------------------------------
cat > "$tmp/hosts.table" <<'X'
host         family      bytes  in_bytes  out_bytes  packets  frame_bytes      in_rate    out_rate
2001:db8::1  ipv6      5.0 GiB   5.0 GiB        0 B        2      5.0 GiB  11.9 Mbit/s   0.0 bit/s
10.0.0.1     ipv4      5.6 MiB   4.3 MiB    1.3 MiB     4010      5.7 MiB  10.0 kbit/s  3.1 kbit/s
10.0.0.10    ipv4        700 B     700 B        0 B        5        770 B    1.6 bit/s   0.0 bit/s
10.0.0.2     ipv4        700 B     300 B      400 B       10        798 B    0.7 bit/s   0.9 bit/s
overflow     overflow    100 B       0 B      100 B        1        114 B    0.0 bit/s   0.2 bit/s
X
printf '%s\n' "$RAW" "$HOURLY" >> "$tmp/hosts.table"
crlf > "$tmp/hosts.csv" <<'X'
host,family,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2001:db8::1,ipv6,5368709120,5368709120,0,2,5368709200,11930464.711,0.000
10.0.0.1,ipv4,5901000,4500000,1401000,4010,5957140,10000.000,3113.333
10.0.0.10,ipv4,700,700,0,5,770,1.556,0.000
10.0.0.2,ipv4,700,300,400,10,798,0.667,0.889
overflow,overflow,100,0,100,1,114,0.000,0.222
X
{ json_head hosts "$J_RAW,$J_HOURLY"; cat <<'X'
{"host":"2001:db8::1","family":"ipv6","bytes":5368709120,"in_bytes":5368709120,"out_bytes":0,"packets":2,"frame_bytes":5368709200,"in_rate":11930464.711,"out_rate":0.000},
{"host":"10.0.0.1","family":"ipv4","bytes":5901000,"in_bytes":4500000,"out_bytes":1401000,"packets":4010,"frame_bytes":5957140,"in_rate":10000.000,"out_rate":3113.333},
{"host":"10.0.0.10","family":"ipv4","bytes":700,"in_bytes":700,"out_bytes":0,"packets":5,"frame_bytes":770,"in_rate":1.556,"out_rate":0.000},
{"host":"10.0.0.2","family":"ipv4","bytes":700,"in_bytes":300,"out_bytes":400,"packets":10,"frame_bytes":798,"in_rate":0.667,"out_rate":0.889},
{"host":"overflow","family":"overflow","bytes":100,"in_bytes":0,"out_bytes":100,"packets":1,"frame_bytes":114,"in_rate":0.000,"out_rate":0.222}
]}
X
} > "$tmp/hosts.json"

# --- ports ---------------------------------------------------------------
cat > "$tmp/ports.table" <<'X'
proto          port    bytes  in_bytes  out_bytes  packets  frame_bytes      in_rate    out_rate
tcp             443  5.6 MiB   4.3 MiB    1.3 MiB     4000      5.7 MiB  10.0 kbit/s  3.1 kbit/s
udp              53  1.4 KiB       0 B    1.4 KiB       17      1.6 KiB    0.0 bit/s   3.1 bit/s
sctp          36412    700 B       0 B      700 B        2        800 B    0.0 bit/s   1.6 bit/s
tcp              22    700 B     700 B        0 B        5        770 B    1.6 bit/s   0.0 bit/s
odd,"name"?x      9    300 B     300 B        0 B        3        342 B    0.7 bit/s   0.0 bit/s
X
printf '%s\n' "$RAW" >> "$tmp/ports.table"
crlf > "$tmp/ports.csv" <<'X'
proto,port,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
tcp,443,5900000,4500000,1400000,4000,5956000,10000.000,3111.111
udp,53,1400,0,1400,17,1596,0.000,3.111
sctp,36412,700,0,700,2,800,0.000,1.556
tcp,22,700,700,0,5,770,1.556,0.000
"odd,""name""@LF@x",9,300,300,0,3,342,0.667,0.000
X
{ json_head ports "$J_RAW"; cat <<'X'
{"proto":"tcp","port":443,"bytes":5900000,"in_bytes":4500000,"out_bytes":1400000,"packets":4000,"frame_bytes":5956000,"in_rate":10000.000,"out_rate":3111.111},
{"proto":"udp","port":53,"bytes":1400,"in_bytes":0,"out_bytes":1400,"packets":17,"frame_bytes":1596,"in_rate":0.000,"out_rate":3.111},
{"proto":"sctp","port":36412,"bytes":700,"in_bytes":0,"out_bytes":700,"packets":2,"frame_bytes":800,"in_rate":0.000,"out_rate":1.556},
{"proto":"tcp","port":22,"bytes":700,"in_bytes":700,"out_bytes":0,"packets":5,"frame_bytes":770,"in_rate":1.556,"out_rate":0.000},
{"proto":"odd,\"name\"\nx","port":9,"bytes":300,"in_bytes":300,"out_bytes":0,"packets":3,"frame_bytes":342,"in_rate":0.667,"out_rate":0.000}
]}
X
} > "$tmp/ports.json"

# --- peers ---------------------------------------------------------------
cat > "$tmp/peers.table" <<'X'
host       peer            bytes  in_bytes  out_bytes  packets  frame_bytes      in_rate    out_rate
10.0.0.1   192.0.2.7     5.6 MiB   4.3 MiB    1.3 MiB     4000      5.7 MiB  10.0 kbit/s  3.1 kbit/s
10.0.0.1   198.51.100.9   1000 B       0 B     1000 B       10      1.1 KiB    0.0 bit/s   2.2 bit/s
10.0.0.10  192.0.2.7       400 B     400 B        0 B        4        440 B    0.9 bit/s   0.0 bit/s
10.0.0.2   198.51.100.9    400 B       0 B      400 B        7        456 B    0.0 bit/s   0.9 bit/s
10.0.0.1   10.0.0.2         60 B       0 B       60 B        1         74 B    0.0 bit/s   0.1 bit/s
10.0.0.2   10.0.0.1         60 B      60 B        0 B        1         74 B    0.1 bit/s   0.0 bit/s
resolution: 1 min (raw tier), 2026-11-25T10:00:00Z .. 2026-11-25T10:02:00Z
X
crlf > "$tmp/peers.csv" <<'X'
host,peer,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
10.0.0.1,192.0.2.7,5900000,4500000,1400000,4000,5956000,10000.000,3111.111
10.0.0.1,198.51.100.9,1000,0,1000,10,1140,0.000,2.222
10.0.0.10,192.0.2.7,400,400,0,4,440,0.889,0.000
10.0.0.2,198.51.100.9,400,0,400,7,456,0.000,0.889
10.0.0.1,10.0.0.2,60,0,60,1,74,0.000,0.133
10.0.0.2,10.0.0.1,60,60,0,1,74,0.133,0.000
X
{ json_head peers "$J_PEERS"; cat <<'X'
{"host":"10.0.0.1","peer":"192.0.2.7","bytes":5900000,"in_bytes":4500000,"out_bytes":1400000,"packets":4000,"frame_bytes":5956000,"in_rate":10000.000,"out_rate":3111.111},
{"host":"10.0.0.1","peer":"198.51.100.9","bytes":1000,"in_bytes":0,"out_bytes":1000,"packets":10,"frame_bytes":1140,"in_rate":0.000,"out_rate":2.222},
{"host":"10.0.0.10","peer":"192.0.2.7","bytes":400,"in_bytes":400,"out_bytes":0,"packets":4,"frame_bytes":440,"in_rate":0.889,"out_rate":0.000},
{"host":"10.0.0.2","peer":"198.51.100.9","bytes":400,"in_bytes":0,"out_bytes":400,"packets":7,"frame_bytes":456,"in_rate":0.000,"out_rate":0.889},
{"host":"10.0.0.1","peer":"10.0.0.2","bytes":60,"in_bytes":0,"out_bytes":60,"packets":1,"frame_bytes":74,"in_rate":0.000,"out_rate":0.133},
{"host":"10.0.0.2","peer":"10.0.0.1","bytes":60,"in_bytes":60,"out_bytes":0,"packets":1,"frame_bytes":74,"in_rate":0.133,"out_rate":0.000}
]}
X
} > "$tmp/peers.json"

# --- protocols -----------------------------------------------------------
cat > "$tmp/protocols.table" <<'X'
proto           bytes  in_bytes  out_bytes  packets  frame_bytes      in_rate    out_rate
icmpv6        5.0 GiB   5.0 GiB        0 B        2      5.0 GiB  11.9 Mbit/s   0.0 bit/s
tcp           5.6 MiB   4.3 MiB    1.3 MiB     4005      5.7 MiB  10.0 kbit/s  3.1 kbit/s
udp           1.4 KiB       0 B    1.4 KiB       17      1.6 KiB    0.0 bit/s   3.1 bit/s
odd,"name"?x    300 B     300 B        0 B        3        342 B    0.7 bit/s   0.0 bit/s
253             100 B       0 B      100 B        1        114 B    0.0 bit/s   0.2 bit/s
X
printf '%s\n' "$RAW" "$HOURLY" >> "$tmp/protocols.table"
crlf > "$tmp/protocols.csv" <<'X'
proto,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
icmpv6,5368709120,5368709120,0,2,5368709200,11930464.711,0.000
tcp,5900700,4500700,1400000,4005,5956770,10001.556,3111.111
udp,1400,0,1400,17,1596,0.000,3.111
"odd,""name""@LF@x",300,300,0,3,342,0.667,0.000
253,100,0,100,1,114,0.000,0.222
X
{ json_head protocols "$J_RAW,$J_HOURLY"; cat <<'X'
{"proto":"icmpv6","bytes":5368709120,"in_bytes":5368709120,"out_bytes":0,"packets":2,"frame_bytes":5368709200,"in_rate":11930464.711,"out_rate":0.000},
{"proto":"tcp","bytes":5900700,"in_bytes":4500700,"out_bytes":1400000,"packets":4005,"frame_bytes":5956770,"in_rate":10001.556,"out_rate":3111.111},
{"proto":"udp","bytes":1400,"in_bytes":0,"out_bytes":1400,"packets":17,"frame_bytes":1596,"in_rate":0.000,"out_rate":3.111},
{"proto":"odd,\"name\"\nx","bytes":300,"in_bytes":300,"out_bytes":0,"packets":3,"frame_bytes":342,"in_rate":0.667,"out_rate":0.000},
{"proto":"253","bytes":100,"in_bytes":0,"out_bytes":100,"packets":1,"frame_bytes":114,"in_rate":0.000,"out_rate":0.222}
]}
X
} > "$tmp/protocols.json"

# shellcheck disable=SC2086
for r in hosts ports peers protocols; do
	check "top $r, table (default format)" "$tmp/$r.table" top $r $W
	check "top $r, --format csv" "$tmp/$r.csv" top $r $W --format csv
	check "top $r, --format json" "$tmp/$r.json" top $r $W --format json
done

# --- windows, limits, option forms ----------------------------------------
crlf > "$tmp/limit2.csv" <<'X'
host,family,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2001:db8::1,ipv6,5368709120,5368709120,0,2,5368709200,11930464.711,0.000
10.0.0.1,ipv4,5901000,4500000,1401000,4010,5957140,10000.000,3113.333
X
# shellcheck disable=SC2086
check "--limit 2 keeps the 2 largest" "$tmp/limit2.csv" \
    top hosts $W --format csv --limit 2

# JSON states the window the rates average over: with all, the data's own
# (09:59 to 11:01, 3720 s: 5368709120 B is 11545611.011 bit/s).
cat > "$tmp/all.json" <<'X'
{"report":"hosts","since":"2026-11-25T09:59:00Z","since_epoch":1795600740,"until":"2026-11-25T11:01:00Z","until_epoch":1795604460,"limit":10,"resolutions":[{"tier":"raw","resolution":60,"first":"2026-11-25T09:59:00Z","first_epoch":1795600740,"end":"2026-11-25T11:01:00Z","end_epoch":1795604460},{"tier":"hourly","resolution":3600,"first":"2026-11-25T10:00:00Z","first_epoch":1795600800,"end":"2026-11-25T11:00:00Z","end_epoch":1795604400}],"rows":[
{"host":"2001:db8::1","family":"ipv6","bytes":5368709120,"in_bytes":5368709120,"out_bytes":0,"packets":2,"frame_bytes":5368709200,"in_rate":11545611.011,"out_rate":0.000},
{"host":"10.0.0.2","family":"ipv4","bytes":100000699,"in_bytes":300,"out_bytes":100000399,"packets":109,"frame_bytes":100000797,"in_rate":0.645,"out_rate":215054.622},
{"host":"10.0.0.10","family":"ipv4","bytes":88889588,"in_bytes":700,"out_bytes":88888888,"packets":104,"frame_bytes":88889658,"in_rate":1.505,"out_rate":191158.899},
{"host":"10.0.0.1","family":"ipv4","bytes":5901000,"in_bytes":4500000,"out_bytes":1401000,"packets":4010,"frame_bytes":5957140,"in_rate":9677.419,"out_rate":3012.903},
{"host":"overflow","family":"overflow","bytes":100,"in_bytes":0,"out_bytes":100,"packets":1,"frame_bytes":114,"in_rate":0.000,"out_rate":0.215}
]}
X
check "--since all --until all counts every bucket" "$tmp/all.json" \
    top hosts --db "$db" --since all --until all --format json

# Only when no row bounds an unbounded end is it null.  idle.db adds an
# agent and an interface that never sent a row.
{
	cat tests/system/report_fixture.sql
	echo "INSERT INTO agent VALUES (2, 'agent-idle', 1795590000, 1, 60, 1795590000, 1795590000);"
	echo "INSERT INTO iface VALUES (3, 2, 'idle0');"
} | "$MKDB" "$tmp/idle.db" || { echo "Bail out! cannot build idle.db"; exit 1; }
printf '%s\n' '{"report":"hosts","since":null,"since_epoch":null,"until":"2026-11-25T11:00:00Z","until_epoch":1795604400,"limit":10,"resolutions":[],"rows":[]}' \
    > "$tmp/allnone.json"
check "--since all over no rows: since is null" "$tmp/allnone.json" \
    top hosts --db "$tmp/idle.db" --since all \
    --until 2026-11-25T11:00:00Z --agent agent-idle --format json

cat > "$tmp/before.table" <<'X'
host      family     bytes  in_bytes  out_bytes  packets  frame_bytes    in_rate     out_rate
10.0.0.2  ipv4    95.4 MiB       0 B   95.4 MiB       99     95.4 MiB  0.0 bit/s  22.2 kbit/s
resolution: 1 min (raw tier), 2026-11-25T09:59:00Z .. 2026-11-25T10:00:00Z
X
check "date --since, bucket == --until is excluded" "$tmp/before.table" \
    top hosts --db "$db" --since 2026-11-25 --until 2026-11-25T10:00:00Z

cat > "$tmp/atuntil.table" <<'X'
host       family     bytes  in_bytes  out_bytes  packets  frame_bytes    in_rate     out_rate
10.0.0.10  ipv4    84.8 MiB       0 B   84.8 MiB       99     84.8 MiB  0.0 bit/s  15.2 kbit/s
resolution: 1 min (raw tier), 2026-11-25T11:00:00Z .. 2026-11-25T11:01:00Z
X
check "bucket == --since is included" "$tmp/atuntil.table" \
    top hosts --db "$db" --since 2026-11-25T11:00:00Z --until 2026-11-26

printf 'proto  bytes  in_bytes  out_bytes  packets  frame_bytes  in_rate  out_rate\n%s\n' \
    'resolution: none, no rows in this range' > "$tmp/empty.table"
check "an empty window prints the header and says it read nothing" "$tmp/empty.table" \
    top protocols --db "$db" --since 2026-11-24 --until 2026-11-25
crlf > "$tmp/empty.csv" <<'X'
proto,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
X
check "an empty window in csv is the header row" "$tmp/empty.csv" \
    top protocols --db "$db" --since 2026-11-24 --until 2026-11-25 \
    --format csv

# --host with an address that is only ever a peer: the empty report as
# usual (exit 0), and one line on stderr saying what the address is and
# where its traffic is.  192.0.2.7 is the peer of 10.0.0.1 and 10.0.0.10
# in $W (of 10.0.0.2 only at 09:59, outside it).
# peer_hint NAME WANT-STDOUT WANT-STDERR ARGS...
peer_hint() {
	name=$1 want=$2 msg=$3
	shift 3
	"$NETTALLY" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	# An empty WANT-STDERR: nothing on stderr.
	if [ -n "$msg" ]; then printf '%s\n' "$msg"; fi > "$tmp/wanterr"
	if [ $rc -eq 0 ] && cmp -s "$want" "$tmp/out" &&
	    cmp -s "$tmp/wanterr" "$tmp/err"; then
		pass "$name"
	else
		fail "$name"
		echo "# exit $rc; stderr: $(cat "$tmp/err")"
		diff "$want" "$tmp/out" | sed 's/^/# /'
	fi
}
printf '%s\n%s\n' \
    'host  family  bytes  in_bytes  out_bytes  packets  frame_bytes  in_rate  out_rate' \
    'resolution: none, no rows in this range' > "$tmp/nohost.table"
# shellcheck disable=SC2086
peer_hint "top hosts --host PEER: empty, and says it is a peer of 2 hosts" \
    "$tmp/nohost.table" \
    "nettally: top: --host 192.0.2.7: not a local host in this window, but a peer of 2 local hosts; --host selects local hosts only: see nettally top peers, or peer = '192.0.2.7' in the peer_traffic view" \
    top hosts $W --host 192.0.2.7
crlf > "$tmp/noseries.csv" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2026-11-25T09:55:00Z,1795600500,0,0,0,0,0,0.000,0.000
X
peer_hint "series --host PEER: zeros, and the same hint for 1 host" \
    "$tmp/noseries.csv" \
    "nettally: series: --host 192.0.2.7: not a local host in this window, but a peer of 1 local host; --host selects local hosts only: see nettally top peers, or peer = '192.0.2.7' in the peer_traffic view" \
    series --db "$db" --since 2026-11-25T09:59:00Z \
    --until 2026-11-25T10:00:00Z --step 5m --host 192.0.2.7 --format csv
crlf > "$tmp/nosummary.csv" <<'X'
agent,iface,period,start,start_epoch,in_bytes,out_bytes,bytes,packets,in_rate,out_rate
X
peer_hint "summary --host PEER: no rows, the hint over yesterday to now" \
    "$tmp/nosummary.csv" \
    "nettally: summary: --host 192.0.2.7: not a local host in this window, but a peer of 3 local hosts; --host selects local hosts only: see nettally top peers, or peer = '192.0.2.7' in the peer_traffic view" \
    summary --db "$db" --now 2026-11-25T12:00:00Z --host 192.0.2.7 \
    --format csv
: > "$tmp/nothing"
# shellcheck disable=SC2086
peer_hint "chart --host PEER: an empty chart, and the hint" "$tmp/nothing" \
    "nettally: chart: --host 192.0.2.7: not a local host in this window, but a peer of 2 local hosts; --host selects local hosts only: see nettally top peers, or peer = '192.0.2.7' in the peer_traffic view" \
    chart $W --host 192.0.2.7 -o "$tmp/peer.svg"
# A peer outside the window, a local host without rows, or another
# filter (which may be what emptied the report): no hint.
printf '%s\n%s\n' \
    'host  peer  bytes  in_bytes  out_bytes  packets  frame_bytes  in_rate  out_rate' \
    'resolution: none, no rows in this range' > "$tmp/nopeer.table"
check "top peers --host PEER outside its window: empty, no hint" \
    "$tmp/nopeer.table" top peers --db "$db" --since 2026-11-24 \
    --until 2026-11-25 --host 192.0.2.7
# shellcheck disable=SC2086
peer_hint "top hosts --host PEER --proto tcp: another filter, no hint" \
    "$tmp/nohost.table" "" top hosts $W --host 192.0.2.7 --proto tcp
check "top hosts --host HOST without rows: empty, no hint" \
    "$tmp/nohost.table" top hosts --db "$db" --since 2026-11-24 \
    --until 2026-11-25 --host 10.0.0.1

NETTALLY_DB=$db check "NETTALLY_DB names the database" "$tmp/hosts.table" \
    top hosts --since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z
# shellcheck disable=SC2086
NETTALLY_DB=$tmp/nonexistent.db check "--db wins over NETTALLY_DB" \
    "$tmp/hosts.table" top hosts $W
check "--opt=value forms, options before the report" "$tmp/ports.json" \
    top --db="$db" --format=json --since=2026-11-25T10:00:00Z \
    --until=2026-11-25T11:00:00Z ports

# Relative windows depend on the clock: check they run and print a header.
for args in "" "--since 90s" "--since 15m --until 90s" "--since 2h" \
    "--since 7d" "--since 1w --until 1h30m" "--since all"; do
	# shellcheck disable=SC2086
	if "$NETTALLY" top hosts --db "$db" $args > "$tmp/out" 2> "$tmp/err" &&
	    [ ! -s "$tmp/err" ] &&
	    head -n 1 "$tmp/out" | grep -q '^host  *family  *bytes'; then
		pass "relative window '${args:-default 1h}' runs"
	else
		fail "relative window '${args:-default 1h}' runs"
		sed 's/^/# /' "$tmp/err"
	fi
done

# --- help and version -----------------------------------------------------
"$NETTALLY" --help > "$tmp/help1" 2> "$tmp/err"; rc1=$?
"$NETTALLY" top --help > "$tmp/help2" 2>> "$tmp/err"; rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ ! -s "$tmp/err" ] &&
    cmp -s "$tmp/help1" "$tmp/help2" && head -n 1 "$tmp/help1" |
    grep -q '^usage: nettally top REPORT'; then
	pass "--help and top --help print the usage, exit 0"
else
	fail "--help and top --help print the usage, exit 0"
fi
missing=
for r in hosts ports peers protocols; do
	cols=$(head -n 1 "$tmp/$r.csv" | tr -d '\r' | tr ',' ' ')
	keys=${cols%% bytes in_bytes out_bytes packets frame_bytes in_rate out_rate}
	grep -q "^  $r  *$keys\$" "$tmp/help1" || missing="$missing $r"
	for c in $cols; do
		grep -q "^  $c  " "$tmp/help1" || missing="$missing $r.$c"
	done
done
if [ -z "$missing" ]; then
	pass "usage documents every report's columns"
else
	fail "usage documents every report's columns:$missing"
fi
# --db is an option of the reports, which read the database: the usage
# lists it with them, not under status, which refuses it.
check_err "--db for status" \
    'status: --db: does not apply to status; see nettally --help' \
    status --db "$db"
if ! awk '/^status:/ { s = 1 } s && /--db/' "$tmp/help1" | grep -q . &&
    grep -q '^  --db FILE  ' "$tmp/help1"; then
	pass "usage: --db is listed with the reports' options, not under status"
else
	fail "usage: --db is listed with the reports' options, not under status"
fi
if "$NETTALLY" --version > "$tmp/out" 2> "$tmp/err" && [ ! -s "$tmp/err" ] &&
    grep -q '^nettally [0-9][0-9.]* (database schema [1-9][0-9]*, sqlite ' "$tmp/out"
then
	pass "--version"
else
	fail "--version"
fi

# --- errors: exit 2, one line saying what is wrong and what to do ---------
check_err "missing database" \
    "$tmp/none.db: no such database; pass --db FILE or set NETTALLY_DB, or start nettally-stored to create it" \
    top hosts --db "$tmp/none.db"
NETTALLY_DB=$tmp/none.db check_err "missing database from NETTALLY_DB" \
    "$tmp/none.db: no such database; pass --db FILE or set NETTALLY_DB, or start nettally-stored to create it" \
    top hosts
check_err "empty database" \
    "$tmp/empty.db: database is empty, not initialised; start nettally-stored once to create it, or check --db" \
    top hosts --db "$tmp/empty.db"
schema=$("$NETTALLY" --version | sed -n 's/.*database schema \([0-9]*\),.*/\1/p')
check_err "database from a newer schema" \
    "$tmp/newer.db: database schema 999 is newer than this nettally (schema $schema); upgrade nettally" \
    top hosts --db "$tmp/newer.db"
check_err "not a database" \
    "$tmp/garbage.db: cannot read: file is not a database; is it a nettally database?" \
    top hosts --db "$tmp/garbage.db"
check_err "a directory as --db" \
    "$tmp: is a directory; pass the database file with --db FILE" \
    top hosts --db "$tmp"
mkfifo "$tmp/fifo.db"
check_err "a FIFO as --db: refused, not waited on" \
    "$tmp/fifo.db: not a regular file; pass the database file with --db FILE" \
    top hosts --db "$tmp/fifo.db"
# An empty path named no file at all (": no such database").
check_err "an empty --db" \
    "--db: empty path; pass the database file with --db FILE" \
    top hosts --db ""
# connect(2) to an empty path is refused, which read as a store not running.
check_err "an empty --socket for status" \
    "status: --socket: empty path; give the store's socket path" \
    status --socket ""
# Someone else's SQLite files: never told to start nettally-stored on them,
# which would migrate them.
if command -v sqlite3 > /dev/null 2>&1; then
	sqlite3 "$tmp/foreign0.db" 'CREATE TABLE t (x)' &&
	    sqlite3 "$tmp/foreign4.db" 'CREATE TABLE t (x); PRAGMA user_version = 4' &&
	    sqlite3 "$tmp/foreign1.db" 'CREATE TABLE agent (x); PRAGMA user_version = 1' ||
	    { echo "Bail out! cannot make the foreign databases"; exit 1; }
	check_err "a foreign database, user_version 0 with tables" \
	    "$tmp/foreign0.db: not a nettally database: it has tables but no nettally schema version; check --db" \
	    top hosts --db "$tmp/foreign0.db"
	check_err "a foreign database, our user_version but not our tables" \
	    "$tmp/foreign4.db: not a nettally database: schema version 4 but no nettally tables and views; check --db" \
	    top hosts --db "$tmp/foreign4.db"
	check_err "a foreign database with an older user_version" \
	    "$tmp/foreign1.db: not a nettally database: schema version 1 but no nettally tables and views; check --db" \
	    series --db "$tmp/foreign1.db"
	# A damaged file found while reading (the root page of host_stat
	# overwritten): exit 1, the SQLite message and what to do about it,
	# as the store says it.
	cp "$db" "$tmp/corrupt.db"
	root=$(sqlite3 "$tmp/corrupt.db" "SELECT rootpage FROM sqlite_master WHERE name = 'host_stat'")
	psize=$(sqlite3 "$tmp/corrupt.db" 'PRAGMA page_size')
	head -c 200 /dev/zero | tr '\0' '\377' | dd of="$tmp/corrupt.db" \
	    bs=1 seek=$(((root - 1) * psize)) conv=notrunc 2> /dev/null
	for r in "top hosts" "series" "summary"; do
		case $r in summary) w= ;; *) w="--since all" ;; esac
		# shellcheck disable=SC2086
		"$NETTALLY" $r --db "$tmp/corrupt.db" $w > "$tmp/out" \
		    2> "$tmp/err"
		rc=$?
		printf 'nettally: %s: database disk image is malformed; the database file is damaged: check it with sqlite3 FILE '"'"'PRAGMA integrity_check'"'"', and repair it or restore a backup (nettally only reads it)\n' \
		    "$tmp/corrupt.db" > "$tmp/experr"
		if [ $rc -eq 1 ] && cmp -s "$tmp/experr" "$tmp/err"; then
			pass "$r on a damaged database: exit 1, integrity_check and a backup"
		else
			fail "$r on a damaged database: exit 1, integrity_check and a backup"
			echo "# exit $rc; stderr: $(cat "$tmp/err")"
		fi
	done
else
	fail "foreign databases (sqlite3 is missing: apt-get install sqlite3)"
fi
# A mistyped --agent or --iface is an error, as an unknown --host is: an
# empty report would exit 0 and an --alert check could never fire.  An
# agent or interface the database knows without rows in the window is
# the empty report, exit 0.
check_err "unknown --agent, with --alert: exit 2, the known agents" \
    'summary: --agent "agent-b": no such agent was ever recorded; known agents: agent-a, agent-idle' \
    summary --db "$tmp/idle.db" --agent agent-b --alert out:1B
# --alert takes DIGITS[.DIGITS] then a unit: strtod's exponents, hex and
# inf are refused, not read as some other limit.
for lim in 1e3GB 0x10GB 1.5e2MiB out:infGB; do
	check_err "--alert $lim: exit 2, the limit's grammar" \
	    "summary: --alert \"$lim\": a limit is [in:|out:|total:]NUMBER UNIT, e.g. 5GiB or out:100Mbit/s" \
	    summary --db "$tmp/idle.db" --alert "$lim"
done
check_err "unknown --iface: exit 2, the known interfaces" \
    'top: --iface "eth2": no such interface was ever recorded; known interfaces: eth0, eth1, idle0' \
    top hosts --db "$tmp/idle.db" --iface eth2
check_err "--iface of another agent: exit 2, the agent's interfaces" \
    'series: --iface "idle0": agent "agent-a" never recorded this interface; its interfaces: eth0, eth1' \
    series --db "$tmp/idle.db" --agent agent-a --iface idle0
check_err "unknown --agent for a chart: nothing written" \
    'chart: --agent "agent-b": no such agent was ever recorded; known agents: agent-a, agent-idle' \
    chart --db "$tmp/idle.db" --agent agent-b -o "$tmp/agent.svg"
if [ ! -e "$tmp/agent.svg" ]; then
	pass "unknown --agent for a chart: no SVG file"
else
	fail "unknown --agent for a chart: no SVG file"
fi
# Past five names the hint counts the rest; a name's control characters
# are '?' on the terminal.
{
	cat tests/system/report_fixture.sql
	for i in 2 3 4 5 6 7 8; do
		echo "INSERT INTO agent VALUES ($i, 'agent-$i', 1, 1, 60, 1, 1);"
	done
	echo "INSERT INTO agent VALUES (9, 'agent-' || char(27) || '[31m', 1, 1, 60, 1, 1);"
} | "$MKDB" "$tmp/agents.db" || { echo "Bail out! cannot build agents.db"; exit 1; }
check_err "unknown --agent among many: five names, the escape as '?', and how many more" \
    'top: --agent "agent-9": no such agent was ever recorded; known agents: agent-?[31m, agent-2, agent-3, agent-4, agent-5 and 4 more' \
    top hosts --db "$tmp/agents.db" --agent agent-9
printf 'host  family  bytes  in_bytes  out_bytes  packets  frame_bytes  in_rate  out_rate\n%s\n' \
    'resolution: none, no rows in this range' > "$tmp/idle.table"
for f in "--agent agent-idle" "--iface idle0" "--agent agent-idle --iface idle0"
do
	# shellcheck disable=SC2086
	check "$f without rows in the window: empty report, exit 0" \
	    "$tmp/idle.table" top hosts --db "$tmp/idle.db" \
	    --since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z $f
done
check_err "unknown report" \
    'top: "host": unknown report; use hosts, ports, peers, protocols, agents or interfaces' \
    top host --db "$db"
check_err "no report" \
    'top: no report given; use nettally top hosts, ports, peers, protocols, agents or interfaces' \
    top --db "$db"
check_err "two reports" \
    'top: "ports": one report at a time; see nettally top --help' \
    top hosts ports --db "$db"
for l in 0 -1 ' 60' +60 abc 10x 100001 ''; do
	check_err "bad --limit '$l'" \
	    "top: --limit \"$l\": not a whole number from 1 to 100000; give a row count such as --limit 10" \
	    top hosts --db "$db" --limit "$l"
done
check_err "--limit without a value" \
    'top: --limit: needs a value; see nettally top --help' \
    top hosts --db "$db" --limit
D='use e.g. 90s, 15m, 2h, 7d, 1w, 2026-11-25T10:00:00Z, 2026-11-25 or all'
check_err "duration with an unknown unit" \
    "top: --since \"5x\": unknown unit; units are s, m, h, d and w; $D" \
    top hosts --db "$db" --since 5x
check_err "duration without a unit" \
    "top: --since \"90\": the number has no unit (s, m, h, d or w); $D" \
    top hosts --db "$db" --since 90
check_err "negative duration" \
    "top: --since \"-1h\": a duration is a number followed by s, m, h, d or w; $D" \
    top hosts --db "$db" --since=-1h
check_err "a year unit is not accepted" \
    "top: --since \"101y\": unknown unit; units are s, m, h, d and w; $D" \
    top hosts --db "$db" --since 101y
check_err "duration over 100 years" \
    "top: --since \"5300w\": duration longer than 100 years; $D" \
    top hosts --db "$db" --since 5300w
check_err "impossible date" \
    "top: --since \"2026-02-30\": no such date; $D" \
    top hosts --db "$db" --since 2026-02-30
check_err "time without Z" \
    "top: --since \"2026-11-25T10:00:00\": a time is YYYY-MM-DDTHH:MM:SSZ (UTC) or YYYY-MM-DD; $D" \
    top hosts --db "$db" --since 2026-11-25T10:00:00
check_err "bad --until" \
    'top: --until "soon": a duration is a number followed by s, m, h, d or w; use e.g. 90s, 15m, 2h, 7d, 1w, 2026-11-25T10:00:00Z, 2026-11-25, now or all' \
    top hosts --db "$db" --until soon
check_err "--since not before --until" \
    'top: --since 2026-11-25T11:00:00Z is not before --until 2026-11-25T10:00:00Z; give an earlier --since or a later --until' \
    top hosts --db "$db" --since 2026-11-25T11:00:00Z \
    --until 2026-11-25T10:00:00Z
check_err "unknown format" \
    'top: --format "xml": unknown format; use table, csv or json' \
    top hosts --db "$db" --format xml
check_err "unknown option" \
    'top: --sinc: unknown option; see nettally top --help' \
    top hosts --db "$db" --sinc 1h
# An option given twice is refused, not overridden by the last.
check_err "--agent given twice" \
    'top: --agent: given twice; give each option once' \
    top hosts --db "$db" --agent a --agent=b
check_err "-o and --output both given" \
    'chart: --output: given twice; give each option once' \
    chart --db "$db" -o "$tmp/a.svg" --output "$tmp/b.svg"
check_err "--db given twice" \
    'series: --db: given twice; give each option once' \
    series --db "$db" --db "$tmp/none.db"
# A one-letter option is named as it is written.
check_err "-o without a value" \
    'chart: -o: needs a value; see nettally chart --help' \
    chart --db "$db" -o
check_err "-o for status" \
    'status: -o: does not apply to status; see nettally --help' \
    status -o "$tmp/a.svg"
check_err "no command" \
    'no command; use nettally top, series, summary, chart or status, or nettally --help'
check_err "unknown command" \
    'show: unknown command; use nettally top, series, summary, chart or status, or nettally --help' \
    show hosts

# --- terminal escapes in names ---------------------------------------------
# Protocol 250's name holds CSI as C1 (C2 9B), ESC, an invalid byte (FF)
# and an e-acute (C3 A9): a table and an --alert line show the controls
# and the invalid byte as '?' each and keep the e-acute, as JSON keeps it.
{
	cat tests/system/report_fixture.sql
	echo "INSERT INTO protocol VALUES (250, CAST(X'61C29B33316D1B5BFF62C3A9' AS TEXT));"
	echo "INSERT INTO host_stat VALUES (1795600800, 60, 1, 1, 250, 0, 1, 5000000000, 5000000000, 1);"
} | "$MKDB" "$tmp/esc.db" || { echo "Bail out! cannot build esc.db"; exit 1; }
"$NETTALLY" top protocols --db "$tmp/esc.db" --since 2026-11-25T10:00:00Z \
    --until 2026-11-25T10:01:00Z --proto 250 --alert 1GiB > "$tmp/out" \
    2> "$tmp/err"
rc=$?
printf 'proto         bytes  in_bytes  out_bytes  packets  frame_bytes       in_rate   out_rate\na?31m?[?b\303\251  4.7 GiB   4.7 GiB        0 B        1      4.7 GiB  666.7 Mbit/s  0.0 bit/s\n' > "$tmp/want"
if [ $rc -eq 3 ] && head -n 2 "$tmp/out" | cmp -s "$tmp/want" - &&
    ! LC_ALL=C grep -q "$(printf '[\001-\037\177\200-\237]')" "$tmp/out"; then
	pass "C0, C1 and invalid UTF-8 are '?' in a table"
else
	fail "C0, C1 and invalid UTF-8 are '?' in a table"
	head -n 2 "$tmp/out" | diff "$tmp/want" - | od -c | head -10 | sed 's/^/# /'
fi
printf 'nettally: alert: a?31m?[?b\303\251: bytes 4.7 GiB is over the limit 1.0 GiB\n' > "$tmp/want"
if cmp -s "$tmp/want" "$tmp/err"; then
	pass "C0, C1 and invalid UTF-8 are '?' in an --alert line"
else
	fail "C0, C1 and invalid UTF-8 are '?' in an --alert line"
	od -c "$tmp/err" | head -10 | sed 's/^/# /'
fi

# --- counters past INT64_MAX ---------------------------------------------
# Two rows of 3 * 2^61 bytes each, in the window and today: every report
# prints their sum saturated at INT64_MAX rather than failing with
# SQLite's "integer overflow".
big=6917529027641081856
max=9223372036854775807
now=$(date +%s)
today=$((now - now % 60))
{
	cat tests/system/report_fixture.sql
	for b in 1795602600 1795602660 $today $((today - 60)); do
		echo "INSERT INTO host_stat VALUES ($b, 60, 1, 7, 6, 0, $big, $big, $big, 1);"
		echo "INSERT INTO port_stat VALUES ($b, 60, 1, 7, 6, 22, 0, $big, $big, $big, 1);"
		echo "INSERT INTO peer_stat VALUES ($b, 60, 1, 7, 4, 6, 0, $big, $big, $big, 1);"
	done
} | "$MKDB" "$tmp/big.db" || { echo "Bail out! cannot build big.db"; exit 1; }
for r in "top hosts" "top ports" "top peers" "top protocols" "top agents" \
    "top interfaces" "series --step 1h" "summary"; do
	case $r in
	summary) win= ;;
	*) win="--since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z" ;;
	esac
	# shellcheck disable=SC2086
	"$NETTALLY" $r $win --db "$tmp/big.db" --format csv > "$tmp/out" \
	    2> "$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
	    grep -q "10\.0\.0\.10\|agent-a\|tcp\|2026" "$tmp/out" &&
	    [ "$(grep -c ",$max," "$tmp/out")" -ge 1 ]; then
		pass "$r saturates a sum past INT64_MAX"
	else
		fail "$r saturates a sum past INT64_MAX"
		echo "# exit $rc; stderr: $(cat "$tmp/err")"
		sed 's/^/# /' "$tmp/out"
	fi
done
"$NETTALLY" chart -o "$tmp/big.svg" --since 2026-11-25T10:00:00Z \
    --until 2026-11-25T11:00:00Z --db "$tmp/big.db" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q "10.0.0.10" "$tmp/big.svg"
then
	pass "chart draws a sum past INT64_MAX"
else
	fail "chart draws a sum past INT64_MAX"
	echo "# exit $rc; stderr: $(cat "$tmp/err")"
fi

# In and out both saturated: their sum, past INT64_MAX, is named by an
# --alert as the saturated maximum, not as a negative number.
{
	cat tests/system/report_fixture.sql
	for d in 0 1; do
		for b in 1795602600 1795602660; do
			echo "INSERT INTO host_stat VALUES ($b, 60, 1, 7, 6, $d, 1, $big, $big, 1);"
		done
	done
} | "$MKDB" "$tmp/big2.db" || { echo "Bail out! cannot build big2.db"; exit 1; }
"$NETTALLY" top hosts --db "$tmp/big2.db" --since all --alert 1GiB \
    --format csv > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 3 ] && grep -qx 'nettally: alert: 10.0.0.10 ipv4: bytes 8.0 EiB is over the limit 1.0 GiB' "$tmp/err" &&
    ! grep -q -- '-[0-9]' "$tmp/err"; then
	pass "--alert on saturated in + out names the saturated maximum"
else
	fail "--alert on saturated in + out names the saturated maximum"
	echo "# exit $rc; stderr: $(cat "$tmp/err")"
fi

if [ "$(cksum < "$db")" = "$db_sum" ]; then
	pass "the database file is unchanged (read-only)"
else
	fail "the database file is unchanged (read-only)"
fi

echo "1..$n"
[ $failed -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
exit 0
