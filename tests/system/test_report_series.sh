#!/bin/sh
# test_report_series.sh - end-to-end tests of nettally series, summary,
# the filters, --95th, top agents and interfaces, and --alert.
#
# The database is report_fixture2.sql: traffic that follows formulas.  The
# expected output is computed here from the same formulas with awk, not
# with SQL, and compared with the FULL output of the real binary.  Errors:
# exit status 2, one line on stderr.  Prints TAP; exits 1 on a failure.
#
# Environment: NETTALLY (the binary; default $NT_BIN/nettally, else
# ${O:-build}/nettally), REPORT_MKDB (a prebuilt report_mkdb).
set -u

cd "$(dirname "$0")/../.." || exit 1
NETTALLY=${NETTALLY:-${NT_BIN:-${O:-build}}/nettally}
case $NETTALLY in /*) ;; *) NETTALLY=$PWD/$NETTALLY ;; esac
if [ ! -x "$NETTALLY" ]; then
	echo "Bail out! $NETTALLY: no such binary; run make first"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_report_series.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
unset NETTALLY_DB

. tests/system/mkdb.sh
mkdb_build "$tmp"
db=$tmp/fixture2.db
mkdb_fixture "$db" tests/system/report_fixture2.sql

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

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
		diff "$expect" "$tmp/out" | head -20 | sed 's/^/# /'
	fi
}

# check_err NAME MESSAGE ARGS...: exit 2, empty stdout, stderr == one line.
check_err() {
	name=$1 msg=$2
	shift 2
	"$NETTALLY" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	printf 'nettally: %s\n' "$msg" > "$tmp/experr"
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && cmp -s "$tmp/experr" "$tmp/err"
	then
		pass "$name"
	else
		fail "$name"
		echo "# exit $rc (want 2); stdout: $(head -c 300 "$tmp/out")"
		echo "# want: $(cat "$tmp/experr")"
		echo "# got:  $(cat "$tmp/err")"
	fi
}

crlf() { awk '{ printf "%s\r\n", $0 }'; }

# The fixture's records, one per line, from its formulas:
# bucket agent iface host proto dir port packets bytes frame_bytes
records() {
	awk 'BEGIN {
		for (i = 0; i < 20; i++) {
			b = 1795514400 + 60 * i
			k = i + 1
			r(b, "wan0", "10.1.0.2", "tcp", "in", 443, 200, 300000)
			r(b, "wan0", "10.1.0.2", "tcp", "out", 443, 100, 150000)
			r(b, "wan0", "10.1.0.1", "tcp", "in", 22, 5 * k, 7500 * k)
			r(b, "wan0", "10.1.0.1", "udp", "out", 53, 3 * k, 3750 * k)
			if (i >= 10)
				r(b, "wan0", "10.1.0.3", "tcp", "in", 80, 100, 150000)
			r(b, "lan0", "10.1.0.4", "icmp", "in", "-", 50, 75000)
		}
	}
	function r(b, f, h, p, d, port, pk, by) {
		printf "%d agent-b %s %s %s %s %s %d %d %d\n", b, f, h, p, d,
		    port, pk, by, by + 14 * pk
	}'
}
records > "$tmp/records"

W="--db $db --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z"
# Every report over the fixture reads its one tier, raw at 1 minute: a
# table says so in a closing line, JSON in "resolutions".
R1="resolution: 1 min (raw tier), 2026-11-24T10:00:00Z .. 2026-11-24T10:20:00Z"
J1='"resolutions":[{"tier":"raw","resolution":60,"first":"2026-11-24T10:00:00Z","first_epoch":1795514400,"end":"2026-11-24T10:20:00Z","end_epoch":1795515600}]'

# --- series ----------------------------------------------------------------
# series_part STEP SINCE UNTIL: the expected CSV of [SINCE, UNTIL) in
# STEP seconds, from the records: the buckets inside the window, rates
# over the whole step.
series_part() {
	awk -v step="$1" -v w0="$2" -v w1="$3" '
	$1 >= w0 && $1 < w1 { s = $1 - $1 % step; by[s] += $9; pk[s] += $8
	  fr[s] += $10; if ($6 == "in") ib[s] += $9; else ob[s] += $9 }
	END {
		print "time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate"
		for (s = w0 - w0 % step; s < w1; s += step)
			printf "%s,%d,%d,%d,%d,%d,%d,%.3f,%.3f\n", iso(s), s,
			    by[s], ib[s], ob[s], pk[s], fr[s],
			    ib[s] * 8 / step, ob[s] * 8 / step
	}
	function iso(t,   m) {
		m = (t - 1795478400) % 86400
		return sprintf("2026-11-24T%02d:%02d:%02dZ", int(m / 3600),
		    int(m % 3600 / 60), m % 60)
	}' "$tmp/records" | crlf
}
# series_csv STEP: the expected CSV of the whole window in STEP seconds.
series_csv() { series_part "$1" 1795514400 1795515600; }
series_csv 300 > "$tmp/s300.csv"
# shellcheck disable=SC2086
check "series --step 5m, csv" "$tmp/s300.csv" series $W --step 5m \
    --format csv
series_csv 60 > "$tmp/s60.csv"
# shellcheck disable=SC2086
check "series with the default step (the resolution): 20 rows" \
    "$tmp/s60.csv" series $W --format csv
# A window without traffic and no --step: the agent's 60 s resolution,
# each quiet step a row of zeros, as the usage promises.
crlf > "$tmp/quiet.csv" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2026-11-29T23:57:00Z,1795996620,0,0,0,0,0,0.000,0.000
2026-11-29T23:58:00Z,1795996680,0,0,0,0,0,0.000,0.000
2026-11-29T23:59:00Z,1795996740,0,0,0,0,0,0.000,0.000
X
check "series of a quiet window without --step: rows of zeros" \
    "$tmp/quiet.csv" series --db "$db" --since 3m \
    --now 2026-11-30T00:00:00Z --format csv
series_csv 1200 > "$tmp/s1200.csv"
# shellcheck disable=SC2086
check "series --step 20m: one row" "$tmp/s1200.csv" series $W \
    --step 20m --format csv

# A window that starts and ends inside steps: the first and last steps
# hold only the buckets inside it (10:03 and 10:04; 10:10 and 10:11), and
# their rates still average over the whole step.  With all, the window is
# the data's own (10:00 to 10:20), as for top.
series_part 300 1795514550 1795515120 > "$tmp/spart.csv"
if grep -q '^2026-11-24T10:00:00Z,1795514400,1151250,817500,333750,.*,21800.000,8900.000' "$tmp/spart.csv" &&
    grep -q '^2026-11-24T10:10:00Z,.*,32600.000,10300.000' "$tmp/spart.csv"
then
	check "series: partial first and last steps, rates over the step" \
	    "$tmp/spart.csv" series --db "$db" --since 2026-11-24T10:02:30Z \
	    --until 2026-11-24T10:12:00Z --step 5m --format csv
else
	fail "series: partial first and last steps (the expected CSV is wrong)"
fi
series_part 420 1795514400 1795515600 > "$tmp/sall.csv"
check "series --since all --until all --step 7m: the data's own window" \
    "$tmp/sall.csv" series --db "$db" --since all --until all --step 7m \
    --format csv

# json: the same numbers, with the window and the step.
{ printf '{"report":"series","since":"2026-11-24T10:00:00Z","since_epoch":1795514400,"until":"2026-11-24T10:20:00Z","until_epoch":1795515600,"step":600,%s,"rows":[\n' "$J1"
  series_csv 600 | tr -d '\r' | awk -F, 'NR > 1 {
	sep = NR > 2 ? ",\n" : ""
	printf "%s{\"time\":\"%s\",\"epoch\":%s,\"bytes\":%s,\"in_bytes\":%s,\"out_bytes\":%s,\"packets\":%s,\"frame_bytes\":%s,\"in_rate\":%s,\"out_rate\":%s}", sep, $1, $2, $3, $4, $5, $6, $7, $8, $9 }
	END { printf "\n]}\n" }'
} > "$tmp/s600.json"
# shellcheck disable=SC2086
check "series --step 10m, json" "$tmp/s600.json" series $W --step 10m \
    --format json

# --since all: JSON states the window used, from the data's first bucket.
"$NETTALLY" series --db "$db" --since all --until 2026-11-24T10:12:00Z \
    --step 10m --format json > "$tmp/out" 2> "$tmp/err"
if head -n 1 "$tmp/out" | grep -q '^{"report":"series","since":"2026-11-24T10:00:00Z","since_epoch":1795514400,"until":"2026-11-24T10:12:00Z","until_epoch":1795515120,"step":600,' &&
    [ ! -s "$tmp/err" ]; then
	pass "series --since all, json: since is the data's first bucket"
else
	fail "series --since all, json: since is the data's first bucket"
	head -n 1 "$tmp/out" | cut -c 1-200 | sed 's/^/# /'
fi

# A pipe gets no graph; a terminal (script(1)) gets one bar per row, the
# busiest step (the last: 10:15) a full 24 cells.
# shellcheck disable=SC2086
"$NETTALLY" series $W --step 5m > "$tmp/out" 2> "$tmp/err"
if ! grep -q graph "$tmp/out" && [ "$(wc -l < "$tmp/out")" -eq 6 ] &&
    [ "$(tail -n 1 "$tmp/out")" = "$R1" ]; then
	pass "series in a pipe: no graph column"
else
	fail "series in a pipe: no graph column"
fi
if command -v script > /dev/null 2>&1; then
	script -qec "$NETTALLY series $W --step 5m" /dev/null \
	    > "$tmp/tty" 2>&1
	full=$(printf '\342\226\210%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24)
	if tr -d '\r' < "$tmp/tty" | head -n 1 | grep -q ' graph$' &&
	    tr -d '\r' < "$tmp/tty" | grep '^2026-11-24T10:15:00Z' |
	    grep -q "  $full\$" &&
	    [ "$(tr -d '\r' < "$tmp/tty" | grep -c '^2026-11-24T10:.* [^ ]*[▏▎▍▌▋▊▉█]$')" -eq 4 ]
	then
		pass "series on a terminal: one bar per row, the busiest full"
	else
		fail "series on a terminal: one bar per row, the busiest full"
		sed 's/^/# /' "$tmp/tty"
	fi
else
	fail "series on a terminal: script(1) is missing (util-linux)"
fi

# --- mixed resolutions -----------------------------------------------------
# a60 writes 60 s buckets (1000 B in each), b45 45 s buckets (100 B out
# each) over 10:00 to 10:20; c7200 one 2-hour bucket at 08:00 (5000 B),
# outside that window; d7 7 s buckets and a60 a daily bucket on 11-23.
"$MKDB" "$tmp/mixed.db" <<'X' || { echo "Bail out! cannot build mixed.db"; exit 1; }
DELETE FROM address;
INSERT INTO agent VALUES (1, 'a60', 1795510000, 1, 60, 1795510000, 1795515600),
  (2, 'b45', 1795510000, 1, 45, 1795510000, 1795515600),
  (3, 'c7200', 1795510000, 1, 7200, 1795510000, 1795515600),
  (4, 'd7', 1795510000, 1, 7, 1795510000, 1795515600);
INSERT INTO iface VALUES (1, 1, 'eth0'), (2, 2, 'eth0'), (3, 3, 'eth0'),
  (4, 4, 'eth0');
INSERT INTO address VALUES (1, X'040A010001', 4, '10.1.0.1');
INSERT INTO batch VALUES (1, 1, 1795510000, 1, 1795514400, 1795515599, 1795515600, 100);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
INSERT INTO host_stat
  SELECT 1795514400 + 60 * i, 60, 1, 1, 6, 0, 1, 1000, 1014, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 26)
INSERT INTO host_stat
  SELECT 1795514400 + 45 * i, 45, 2, 1, 6, 1, 1, 100, 114, 1 FROM n;
INSERT INTO host_stat VALUES (1795507200, 7200, 3, 1, 6, 0, 5, 5000, 5070, 1),
  (1795392000, 86400, 1, 1, 6, 0, 1, 100, 114, 1),
  (1795392007, 7, 4, 1, 6, 0, 1, 100, 114, 1);
X
M="--db $tmp/mixed.db --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z"
# The default step holds whole buckets of both: 180 s, their least common
# multiple, 3 of a60's and 4 of b45's; the last step, cut at 10:20, has
# the buckets that start before it.
crlf > "$tmp/mixed.csv" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2026-11-24T10:00:00Z,1795514400,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:03:00Z,1795514580,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:06:00Z,1795514760,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:09:00Z,1795514940,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:12:00Z,1795515120,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:15:00Z,1795515300,3400,3000,400,7,3498,133.333,17.778
2026-11-24T10:18:00Z,1795515480,2300,2000,300,5,2370,88.889,13.333
X
# shellcheck disable=SC2086
check "series of 45 s and 60 s data: the default step is 180 s" \
    "$tmp/mixed.csv" series $M --format csv
# shellcheck disable=SC2086
check "series --step 180s: the same" "$tmp/mixed.csv" series $M \
    --step 180s --format csv
for st in 60s:180 90s:180 200s:360; do
	# shellcheck disable=SC2086
	check_err "series --step ${st%%:*} over 45 s and 60 s: a common multiple suggested" \
	    "series: --step ${st%%:*} is not a multiple of every resolution of the data (45s and 60s); give a common multiple such as --step ${st#*:}s" \
	    series $M --step "${st%%:*}"
done
# shellcheck disable=SC2086
check_err "chart --step 90s over 45 s and 60 s: the same message" \
    'chart: --step 90s is not a multiple of every resolution of the data (45s and 60s); give a common multiple such as --step 180s' \
    chart $M --step 90s -o "$tmp/mixed.svg"
# shellcheck disable=SC2086
"$NETTALLY" chart $M -o "$tmp/mixed.svg" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
    grep -q 'time (UTC), step 180 s</text>' "$tmp/mixed.svg"; then
	pass "chart of 45 s and 60 s data: the default step is 180 s"
else
	fail "chart of 45 s and 60 s data: the default step is 180 s"
	echo "# exit $rc; stderr: $(cat "$tmp/err")"
fi
# 7 s and daily buckets need a week; a default step is at most a day (or
# the largest resolution): refused, naming the step to give, which works.
check_err "series over 7 s and daily buckets: the default is refused past a day" \
    'series: the resolutions of the data (7s and 86400s) need a step of 604800s to hold whole buckets of each, longer than the 86400s a default step may be; give --step 604800s, or narrow the window or the filters' \
    series --db "$tmp/mixed.db" --since 2026-11-23 --until 2026-11-24
"$NETTALLY" series --db "$tmp/mixed.db" --since 2026-11-23 \
    --until 2026-11-24 --step 604800s --format csv > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
    [ "$(tr -d '\r' < "$tmp/out" | awk -F, 'NR > 1 { b += $3 } END { print NR - 1, b }')" = "1 200" ]
then
	pass "series --step 604800s over 7 s and daily buckets: one row, both"
else
	fail "series --step 604800s over 7 s and daily buckets: one row, both"
	echo "# exit $rc; stderr: $(cat "$tmp/err")"; sed 's/^/# /' "$tmp/out"
fi
# A bucket counts when it starts inside the window: with 2-hour buckets,
# none can start in 09:40 to 09:43, so a series of it has no row (not one
# of zeros at 08:00, where the database holds 5000 B), and a chart says
# why it draws nothing.
crlf > "$tmp/norow.csv" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
X
check "series of 2-hour buckets over 3 minutes: no row before the window" \
    "$tmp/norow.csv" series --db "$tmp/mixed.db" --agent c7200 --since 3m \
    --now 2026-11-24T09:43:00Z --format csv
check_err "chart of 2-hour buckets over 3 minutes: refused, saying why" \
    'chart: no bucket can start in this window: with the data'"'"'s resolutions the first one after --since starts at 2026-11-24T10:00:00Z, at or after --until; give a longer window' \
    chart --db "$tmp/mixed.db" --agent c7200 --since 3m \
    --now 2026-11-24T09:43:00Z -o "$tmp/none.svg"
# 5-minute steps of 60 s data from 10:04:30: no bucket of 10:00 to 10:05
# starts in the window, so the first row is 10:05.
series_part 300 1795514670 1795515600 | sed '2d' > "$tmp/late.csv"
check "series --since inside a step's last bucket: the first row is the next step" \
    "$tmp/late.csv" series --db "$db" --since 2026-11-24T10:04:30Z \
    --until 2026-11-24T10:20:00Z --step 5m --format csv

# --- summary ---------------------------------------------------------------
# now 2026-11-25T06:00:00Z: all the traffic was yesterday; the month has
# run 24 days and 6 hours (2095200 s); today has none, so no row.
awk -v msecs=2095200 '
{ f = $3; ib[f] += ($6 == "in") * $9; ob[f] += ($6 == "out") * $9
  by[f] += $9; pk[f] += $8 }
END {
	print "agent,iface,period,start,start_epoch,in_bytes,out_bytes,bytes,packets,in_rate,out_rate"
	split("lan0 wan0", fs, " ")
	for (j = 1; j <= 2; j++) {
		f = fs[j]
		printf "agent-b,%s,yesterday,2026-11-24T00:00:00Z,1795478400,%d,%d,%d,%d,%.3f,%.3f\n", f, ib[f], ob[f], by[f], pk[f], ib[f] * 8 / 86400, ob[f] * 8 / 86400
		printf "agent-b,%s,month,2026-11-01T00:00:00Z,1793491200,%d,%d,%d,%d,%.3f,%.3f\n", f, ib[f], ob[f], by[f], pk[f], ib[f] * 8 / msecs, ob[f] * 8 / msecs
	}
}' "$tmp/records" | crlf > "$tmp/summary.csv"
check "summary, csv" "$tmp/summary.csv" summary --db "$db" \
    --now 2026-11-25T06:00:00Z --format csv
# The same day at 06:00: today holds everything, yesterday nothing.
"$NETTALLY" summary --db "$db" --now 2026-11-24T12:00:00Z --format json \
    > "$tmp/out" 2> "$tmp/err"
case $(head -n 1 "$tmp/out") in
"{\"report\":\"summary\",\"now\":\"2026-11-24T12:00:00Z\",\"now_epoch\":1795521600,$J1,\"database\":{"*"},\"tiers\":[],\"rows\":[")
	head_ok=1 ;;
*)	head_ok=0 ;;
esac
if [ $head_ok = 1 ] &&
    [ "$(grep -c '"period":"today"' "$tmp/out")" -eq 2 ] &&
    [ "$(grep -c '"period":"yesterday"' "$tmp/out")" -eq 0 ] &&
    grep -q '"iface":"lan0","period":"today","start":"2026-11-24T00:00:00Z","start_epoch":1795478400,"in_bytes":1500000,"out_bytes":0,"bytes":1500000,"packets":1000,"in_rate":277.778,"out_rate":0.000}' "$tmp/out"
then
	pass "summary, json: today at noon, rates over 12 hours"
else
	fail "summary, json: today at noon, rates over 12 hours"
	sed 's/^/# /' "$tmp/out" "$tmp/err"
fi
head -n 1 "$tmp/summary.csv" > "$tmp/summary-none.csv"
check "summary --iface lan0 --direction out: header only" \
    "$tmp/summary-none.csv" summary --db "$db" --now 2026-11-25T06:00:00Z \
    --iface lan0 --direction out --format csv

# --- top with filters, --95th, agents, interfaces ---------------------------
# expect_top NAME KEYEXPR HEADER NCOL COND ARGS...: builds and checks.
expect_top() {
	name=$1 keyexpr=$2 header=$3 ncol=$4 cond=$5
	shift 5
	awk -v header="$header" -v ncol="$ncol" "
	$cond { k = $keyexpr; by[k] += \$9; pk[k] += \$8; fr[k] += \$10
	  if (\$6 == \"in\") ib[k] += \$9; else ob[k] += \$9 }
	END {
		for (k in by)
			printf \"%s,%d,%d,%d,%d,%d,%.3f,%.3f\\n\", k, by[k],
			    ib[k], ob[k], pk[k], fr[k], ib[k] * 8 / 1200,
			    ob[k] * 8 / 1200
	}" "$tmp/records" | sort -t, -k"$ncol,$ncol"nr -k1,1 > "$tmp/rows"
	{ echo "$header,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate"
	  cat "$tmp/rows"; } | crlf > "$tmp/top.csv"
	# shellcheck disable=SC2086
	check "$name" "$tmp/top.csv" top "$@" $W --format csv
}
expect_top "top hosts, every filter off" '$4 ",ipv4"' host,family 3 \
    1 hosts
expect_top "top hosts --iface lan0" '$4 ",ipv4"' host,family 3 \
    '$3 == "lan0"' hosts --iface lan0
expect_top "top hosts --proto udp" '$4 ",ipv4"' host,family 3 \
    '$5 == "udp"' hosts --proto udp
expect_top "top hosts --proto 17 (a number)" '$4 ",ipv4"' host,family 3 \
    '$5 == "udp"' hosts --proto 17
expect_top "top hosts --direction out" '$4 ",ipv4"' host,family 3 \
    '$6 == "out"' hosts --direction out
expect_top "top hosts --host 10.1.0.0/31 (a network)" '$4 ",ipv4"' \
    host,family 3 '$4 == "10.1.0.1"' hosts --host 10.1.0.0/31
expect_top "top hosts --host 10.1.0.2 (an address)" '$4 ",ipv4"' \
    host,family 3 '$4 == "10.1.0.2"' hosts --host 10.1.0.2
expect_top "top hosts --port 443 --direction in (port_traffic)" \
    '$4 ",ipv4"' host,family 3 '$7 == 443 && $6 == "in"' hosts --port 443 \
    --direction in
expect_top "top ports --iface wan0 --proto tcp" '$5 "," $7' proto,port 3 \
    '$3 == "wan0" && $5 == "tcp"' ports --iface wan0 --proto tcp
expect_top "top protocols --agent agent-b" '$5' proto 2 1 protocols \
    --agent agent-b
expect_top "top agents" '$2' agent 2 1 agents
expect_top "top interfaces --host 10.1.0.0/24" '$2 "," $3' agent,iface 3 \
    1 interfaces --host 10.1.0.0/24
# shellcheck disable=SC2086
check_err "top agents --agent nobody: an agent never recorded" \
    'top: --agent "nobody": no such agent was ever recorded; known agents: agent-b' \
    top agents $W --agent nobody --format csv

# --95th: 20 buckets, so the 2nd largest rate of each host (nearest rank,
# floor(20 / 20) + 1); 10.1.0.1's in rate is 1000 * (i + 1) bit/s.
awk '
{ k = $4; b = $1; if ($6 == "in") ri[k, b] += $9 * 8 / 60; else ro[k, b] += $9 * 8 / 60
  hosts[k] = 1; bs[b] = 1 }
END {
	for (k in hosts) {
		n = 0; for (b in bs) vi[++n] = ri[k, b] + 0
		printf "%s %.3f", k, second(vi, n)
		n = 0; for (b in bs) vo[++n] = ro[k, b] + 0
		printf " %.3f\n", second(vo, n)
	}
}
function second(v, n,   i, a, b) {
	a = -1; b = -1
	for (i = 1; i <= n; i++)
		if (v[i] > a) { b = a; a = v[i] } else if (v[i] > b) b = v[i]
	return b
}' "$tmp/records" | sort > "$tmp/p95.want"
# shellcheck disable=SC2086
"$NETTALLY" top hosts $W --95th --format csv 2> "$tmp/err" | tr -d '\r' |
    awk -F, 'NR > 1 { print $1, $10, $11 }' | sort > "$tmp/p95.got"
if [ -s "$tmp/p95.want" ] && cmp -s "$tmp/p95.want" "$tmp/p95.got" &&
    grep -q '^10.1.0.1 19000.000 9500.000$' "$tmp/p95.got"; then
	pass "--95th: the 2nd largest of 20 per-bucket rates, per host"
else
	fail "--95th: the 2nd largest of 20 per-bucket rates, per host"
	diff "$tmp/p95.want" "$tmp/p95.got" | sed 's/^/# /'
fi

# --- the same reports as tables and JSON ---------------------------------------
# csv_table TYPES < CSV: the table nettally prints for that CSV, built
# here from the rules in --help: a header, columns two spaces apart, text
# (t) left-aligned, numbers right-aligned, bytes (b) in B, KiB, MiB... with
# one decimal rounded half up, rates (r) in bit/s, kbit/s... with one
# decimal, counts (c) as they are, no trailing blanks.
csv_table() {
	tr -d '\r' | awk -F, -v types="$1" '
	function human(v,   k, div, t) {
		if (v < 1024) return v " B"
		for (k = 1; ; k++) {
			div = 1024 ^ k
			t = int(v / div) * 10 + int(((v % div) * 10 + div / 2) / div)
			if (t < 10240 || k == 6) break
		}
		return sprintf("%d.%d %s", int(t / 10), t % 10, bu[k])
	}
	function rate(v,   k) {
		for (k = 1; k < 6 && v >= 999.95; k++) v /= 1000
		return sprintf("%.1f %s", v, ru[k])
	}
	BEGIN {
		split("KiB MiB GiB TiB PiB EiB", bu, " ")
		split("bit/s kbit/s Mbit/s Gbit/s Tbit/s Pbit/s", ru, " ")
		nt = split(types, ty, "")
	}
	{
		nr++
		for (i = 1; i <= NF; i++) {
			v = $i
			if (nr > 1 && ty[i] == "b") v = human(v + 0)
			else if (nr > 1 && ty[i] == "r") v = rate(v + 0)
			cell[nr, i] = v
			if (length(v) > w[i]) w[i] = length(v)
		}
		nf = NF
	}
	END {
		for (r = 1; r <= nr; r++) {
			line = ""
			for (i = 1; i <= nf; i++) {
				v = cell[r, i]
				if (i > 1) line = line "  "
				if (ty[i] == "t") {
					line = line v
					if (i < nf) line = line sprintf("%*s", w[i] - length(v), "")
				} else
					line = line sprintf("%*s", w[i], v)
			}
			print line
		}
	}'
}
# csv_json HEAD TYPES < CSV: the JSON object, HEAD being its first line.
csv_json() {
	printf '%s\n' "$1"
	tr -d '\r' | awk -F, -v types="$2" '
	BEGIN { split(types, ty, "") }
	NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
	{
		line = (NR > 2 ? ",\n" : "") "{"
		for (i = 1; i <= NF; i++) {
			v = ty[i] == "t" ? "\"" $i "\"" : $i
			line = line (i > 1 ? "," : "") "\"" name[i] "\":" v
		}
		printf "%s}", line
		rows++
	}
	END { printf rows ? "\n]}\n" : "]}\n" }'
}
TOTALS=bbbcbrr
csv_table tc$TOTALS < "$tmp/s300.csv" > "$tmp/s300.table"
echo "$R1" >> "$tmp/s300.table"
# shellcheck disable=SC2086
check "series --step 5m, table (pipe: no graph)" "$tmp/s300.table" series $W \
    --step 5m
# The summary's closing lines: the tier its periods read, the database's
# size as sqlite3(1) reads its pragmas (the -wal file beside it is empty:
# the fixture's writer closed), and no tier coverage, as the fixture has
# no interface rows (tier_coverage reads them).
pc=$(sqlite3 "$db" 'PRAGMA page_count')
ps=$(sqlite3 "$db" 'PRAGMA page_size')
fl=$(sqlite3 "$db" 'PRAGMA freelist_count')
size=$(awk -v b=$((pc * ps)) 'BEGIN { printf "%.1f KiB", b / 1024 }')
csv_table ttttcbbbcrr < "$tmp/summary.csv" > "$tmp/summary.table"
{ echo "$R1"
  echo "database: $size, $pc pages of $ps B, $fl free; the -wal file (0 B) is not counted"
  echo "tiers: none, no interface rows recorded"
} >> "$tmp/summary.table"
check "summary, table: rows, tier read, database size and tiers" \
    "$tmp/summary.table" summary --db "$db" --now 2026-11-25T06:00:00Z
csv_json "{\"report\":\"summary\",\"now\":\"2026-11-25T06:00:00Z\",\"now_epoch\":1795586400,$J1,\"database\":{\"bytes\":$((pc * ps)),\"page_count\":$pc,\"page_size\":$ps,\"freelist_count\":$fl,\"wal_bytes\":0},\"tiers\":[],\"rows\":[" \
    ttttcccccrr < "$tmp/summary.csv" > "$tmp/summary.json"
check "summary, json" "$tmp/summary.json" summary --db "$db" \
    --now 2026-11-25T06:00:00Z --format json
J='"since":"2026-11-24T10:00:00Z","since_epoch":1795514400,"until":"2026-11-24T10:20:00Z","until_epoch":1795515600,"limit":10,'$J1',"rows":['
for r in agents:t interfaces:tt hosts:tt ports:tc protocols:t; do
	rep=${r%%:*} keys=${r#*:}
	# shellcheck disable=SC2086
	"$NETTALLY" top $rep $W --format csv > "$tmp/$rep.csv" 2> /dev/null
	csv_table "$keys$TOTALS" < "$tmp/$rep.csv" > "$tmp/$rep.table"
	echo "$R1" >> "$tmp/$rep.table"
	csv_json "{\"report\":\"$rep\",$J" "${keys}ccccccc" \
	    < "$tmp/$rep.csv" > "$tmp/$rep.json"
	# shellcheck disable=SC2086
	check "top $rep, table, same numbers as its checked csv" \
	    "$tmp/$rep.table" top $rep $W
	# shellcheck disable=SC2086
	check "top $rep, json, same numbers as its checked csv" \
	    "$tmp/$rep.json" top $rep $W --format json
done

# --- --alert ---------------------------------------------------------------
# alert NAME STATUS STDERR ARGS...
alert() {
	name=$1 want=$2 msg=$3
	shift 3
	"$NETTALLY" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ -s "$tmp/out" ] &&
	    { [ -z "$msg" ] && [ ! -s "$tmp/err" ] ||
	      printf '%s\n' "$msg" | cmp -s - "$tmp/err"; }; then
		pass "$name"
	else
		fail "$name"
		echo "# exit $rc (want $want); stderr: $(cat "$tmp/err")"
	fi
}
# shellcheck disable=SC2086
alert "--alert under the limit: exit 0" 0 "" top hosts $W \
    --alert 9MiB
# shellcheck disable=SC2086
alert "--alert over the limit: exit 3, the row named" 3 \
    "nettally: alert: 10.1.0.2 ipv4: bytes 8.6 MiB is over the limit 8.0 MiB" \
    top hosts $W --alert 8MiB
# shellcheck disable=SC2086
alert "--alert out: rate" 3 \
    "nettally: alert: 10.1.0.2 ipv4: out_rate 20.0 kbit/s is over the limit 10.0 kbit/s" \
    top hosts $W --alert out:10kbit/s
# shellcheck disable=SC2086
alert "--alert in: with --95th compares in_p95" 3 \
    "nettally: alert: 10.1.0.2 ipv4: in_p95 40.0 kbit/s is over the limit 19.5 kbit/s
nettally: alert: 10.1.0.3 ipv4: in_p95 20.0 kbit/s is over the limit 19.5 kbit/s" \
    top hosts $W --95th --alert in:19.5kbit/s
# shellcheck disable=SC2086
alert "--alert on a series" 3 \
    "nettally: alert: 2026-11-24T10:15:00Z: in+out rate 117.0 kbit/s is over the limit 115.0 kbit/s" \
    series $W --step 5m --alert 115kbit/s
alert "--alert on the summary, per interface" 3 \
    "nettally: alert: agent-b wan0 yesterday 2026-11-24T00:00:00Z: out_bytes 3.6 MiB is over the limit 3.0 MiB
nettally: alert: agent-b wan0 month 2026-11-01T00:00:00Z: out_bytes 3.6 MiB is over the limit 3.0 MiB" \
    summary --db "$db" --now 2026-11-25T06:00:00Z --alert out:3MiB

# --- errors ------------------------------------------------------------------
check_err "unknown host" \
    "top: --host 10.9.9.9: no traffic of this host was ever recorded; check the address, or give a network such as 10.9.9.9/24" \
    top hosts --db "$db" --host 10.9.9.9
check_err "unknown host in a series" \
    "series: --host 2001:db8::9: no traffic of this host was ever recorded; check the address, or give a network such as 2001:db8::9/64" \
    series --db "$db" --host 2001:db8::9
check_err "bad network" \
    'top: --host "10.0.0.0/33": not an address or network; give e.g. 192.0.2.1, 10.0.0.0/8 or 2001:db8::/32' \
    top hosts --db "$db" --host 10.0.0.0/33
check_err "unknown protocol" \
    'summary: --proto "tpc": unknown protocol; give a name such as tcp, udp, icmp or a number from 0 to 255' \
    summary --db "$db" --proto tpc
check_err "bad port" \
    'top: --port "https": not a port number from 0 to 65535; give e.g. --port 443' \
    top ports --db "$db" --port https
check_err "bad direction" \
    'top: --direction "both": a direction is in or out' \
    top hosts --db "$db" --direction both
check_err "--port on peers" \
    'top: --port does not apply to peers, which are counted without ports; drop --port or use top ports' \
    top peers --db "$db" --port 53
# shellcheck disable=SC2086
check_err "a step that is not a multiple of the resolution" \
    'series: --step 90s is not a multiple of the 60s resolution of the data; give a multiple such as --step 120s' \
    series $W --step 90s
check_err "bad step" \
    'series: --step "5": the number has no unit (s, m, h, d or w); use e.g. 60s, 5m, 1h or 1d' \
    series --db "$db" --step 5
check_err "too many steps" \
    'series: 5260320 steps of 60s are more than 100000 rows; give a larger --step or a shorter window' \
    series --db "$db" --since 2026-11-24 --until 2036-11-24
check_err "an option of another command" \
    'summary: --95th: does not apply to summary; see nettally --help' \
    summary --db "$db" --95th
check_err "bad --alert" \
    'top: --alert "5 GB": unknown unit; use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, bit/s, kbit/s, Mbit/s, Gbit/s or Tbit/s' \
    top hosts --db "$db" --alert "5 GB"
check_err "bad --now" \
    'summary: --now "noon": a time is YYYY-MM-DDTHH:MM:SSZ (UTC) or YYYY-MM-DD' \
    summary --db "$db" --now noon
check_err "missing database for a series" \
    "$tmp/none.db: no such database; pass --db FILE or set NETTALLY_DB, or start nettally-stored to create it" \
    series --db "$tmp/none.db"
echo 'PRAGMA user_version = 999;' | "$MKDB" "$tmp/newer.db" || exit 1
schema=$("$NETTALLY" --version | sed -n 's/.*database schema \([0-9]*\),.*/\1/p')
check_err "newer schema for a summary" \
    "$tmp/newer.db: database schema 999 is newer than this nettally (schema $schema); upgrade nettally" \
    summary --db "$tmp/newer.db"
check_err "bad duration for a series" \
    'series: --since "1y": unknown unit; units are s, m, h, d and w; use e.g. 90s, 15m, 2h, 7d, 1w, 2026-11-25T10:00:00Z, 2026-11-25 or all' \
    series --db "$db" --since 1y

# A resolution no agent sends (a hand-edited row): refused, no overflow.
cp "$db" "$tmp/huge.db"
echo 'UPDATE host_stat SET resolution = 9223372036854775000
    WHERE bucket = (SELECT min(bucket) FROM host_stat);' |
    "$MKDB" "$tmp/huge.db" || exit 1
"$NETTALLY" series --db "$tmp/huge.db" --since 2020-01-01 \
    > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] &&
    [ "$(cat "$tmp/err")" = "nettally: $tmp/huge.db: the database holds buckets of 9223372036854775000s, which no step holds" ]
then
	pass "a resolution past a century: refused, exit 1"
else
	fail "a resolution past a century: refused, exit 1"
	echo "# exit $rc; stderr: $(cat "$tmp/err")"
fi

echo "1..$n"
[ $failed -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
exit 0
