#!/bin/sh
# test_report_tiers.sh - nettally says which retention tiers it read, and
# the summary shows the database's size and what each tier covers.
#
# The database is report_fixture_tiers.sql: one host's traffic in the
# monthly, daily, hourly and 5-minute raw tiers, one tier per instant, as
# the store's roll-up leaves it.  Every expected line below is worked out
# by hand from the fixture's comment (bucket counts times bytes), except
# the file size, which sqlite3(1) reads from the same pragmas.  The outputs
# are compared whole.  (That a rolled-up store gives these lines and the
# raw totals is test_retention.sh's part.)
. "$(dirname "$0")/lib.sh"
cd "${NT_TOP:-.}" || exit 1
NT=$NT_BIN/nettally

. tests/system/mkdb.sh
mkdb_build "$WORK"
db=$WORK/tiers.db
mkdb_fixture "$db" tests/system/report_fixture_tiers.sql

# same NAME EXPECTED-FILE ARGS...: exit 0, nothing on stderr, stdout whole.
same() {
	name=$1 want=$2
	shift 2
	"$NT" "$@" --db "$db" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$WORK/err" ] && cmp -s "$want" "$WORK/out"
	then
		ok "$name"
	else
		not_ok "$name"
		echo "# exit $rc; stderr: $(cat "$WORK/err")"
		diff "$want" "$WORK/out" | sed 's/^/# /'
	fi
}

# --- summary: periods across three tiers, size, coverage --------------------
# The month (2026-11-01 to now) reads 14 daily buckets (140000000 B), 216
# hourly (21600000 B) and 360 raw (360000 B): 161960000 B over 24 days
# and 6 hours is 618.4 bit/s.  Yesterday is 288 raw buckets, today 72.
pc=$(sqlite3 "$db" 'PRAGMA page_count')
ps=$(sqlite3 "$db" 'PRAGMA page_size')
fl=$(sqlite3 "$db" 'PRAGMA freelist_count')
# The fixture is a few hundred KiB: its size in the table's unit.
size=$(awk -v b=$((pc * ps)) 'BEGIN { printf "%.1f KiB", b / 1024 }')
cat > "$WORK/summary" <<X
agent    iface  period     start                 start_epoch   in_bytes  out_bytes      bytes  packets      in_rate   out_rate
agent-t  eth0   yesterday  2026-11-24T00:00:00Z   1795478400  281.3 KiB        0 B  281.3 KiB      288   26.7 bit/s  0.0 bit/s
agent-t  eth0   today      2026-11-25T00:00:00Z   1795564800   70.3 KiB        0 B   70.3 KiB       72   26.7 bit/s  0.0 bit/s
agent-t  eth0   month      2026-11-01T00:00:00Z   1793491200  154.5 MiB        0 B  154.5 MiB   161960  618.4 bit/s  0.0 bit/s
resolution: 1 day (daily tier), 2026-11-01T00:00:00Z .. 2026-11-15T00:00:00Z
resolution: 1 hour (hourly tier), 2026-11-15T00:00:00Z .. 2026-11-24T00:00:00Z
resolution: 5 min (raw tier), 2026-11-24T00:00:00Z .. 2026-11-25T06:00:00Z
database: $size, $pc pages of $ps B, $fl free; the -wal file (0 B) is not counted
tier raw (5 min): oldest bucket 2026-11-24T00:00:00Z, newest 2026-11-25T05:55:00Z, 360 buckets
tier hourly (1 hour): oldest bucket 2026-11-15T00:00:00Z, newest 2026-11-23T23:00:00Z, 216 buckets
tier daily (1 day): oldest bucket 2026-10-01T00:00:00Z, newest 2026-11-14T00:00:00Z, 45 buckets
tier monthly (1 month): oldest bucket 2026-08-01T00:00:00Z, newest 2026-09-01T00:00:00Z, 2 buckets
X
same "summary: rows, the tiers each period read, size and coverage" \
    "$WORK/summary" summary --now 2026-11-25T06:00:00Z

T='"tier":'
printf '%s\n' "{\"report\":\"summary\",\"now\":\"2026-11-25T06:00:00Z\",\"now_epoch\":1795586400,\"resolutions\":[{$T\"daily\",\"resolution\":86400,\"first\":\"2026-11-01T00:00:00Z\",\"first_epoch\":1793491200,\"end\":\"2026-11-15T00:00:00Z\",\"end_epoch\":1794700800},{$T\"hourly\",\"resolution\":3600,\"first\":\"2026-11-15T00:00:00Z\",\"first_epoch\":1794700800,\"end\":\"2026-11-24T00:00:00Z\",\"end_epoch\":1795478400},{$T\"raw\",\"resolution\":300,\"first\":\"2026-11-24T00:00:00Z\",\"first_epoch\":1795478400,\"end\":\"2026-11-25T06:00:00Z\",\"end_epoch\":1795586400}],\"database\":{\"bytes\":$((pc * ps)),\"page_count\":$pc,\"page_size\":$ps,\"freelist_count\":$fl,\"wal_bytes\":0},\"tiers\":[{$T\"raw\",\"resolution\":300,\"oldest\":\"2026-11-24T00:00:00Z\",\"oldest_epoch\":1795478400,\"newest\":\"2026-11-25T05:55:00Z\",\"newest_epoch\":1795586100,\"buckets\":360},{$T\"hourly\",\"resolution\":3600,\"oldest\":\"2026-11-15T00:00:00Z\",\"oldest_epoch\":1794700800,\"newest\":\"2026-11-23T23:00:00Z\",\"newest_epoch\":1795474800,\"buckets\":216},{$T\"daily\",\"resolution\":86400,\"oldest\":\"2026-10-01T00:00:00Z\",\"oldest_epoch\":1790812800,\"newest\":\"2026-11-14T00:00:00Z\",\"newest_epoch\":1794614400,\"buckets\":45},{$T\"monthly\",\"resolution\":2592000,\"oldest\":\"2026-08-01T00:00:00Z\",\"oldest_epoch\":1785542400,\"newest\":\"2026-09-01T00:00:00Z\",\"newest_epoch\":1788220800,\"buckets\":2}],\"rows\":[" > "$WORK/summary.json"
"$NT" summary --db "$db" --now 2026-11-25T06:00:00Z --format json \
    > "$WORK/out" 2> "$WORK/err"
head -n 1 "$WORK/out" > "$WORK/head"
check "summary json: resolutions, database and tiers before the rows" \
    cmp -s "$WORK/summary.json" "$WORK/head"

# --- top over four tiers ------------------------------------------------------
# Since 2026-09-01: the September month (1000000000 B), 45 days
# (450000000 B), 216 hours and 360 raw buckets: 1471960000 B in the 85
# days and 6 hours to 06:00, 1.6 kbit/s.
cat > "$WORK/top" <<'X'
host      family    bytes  in_bytes  out_bytes  packets  frame_bytes     in_rate   out_rate
10.2.0.1  ipv4    1.4 GiB   1.4 GiB        0 B  1471960      1.4 GiB  1.6 kbit/s  0.0 bit/s
resolution: 1 month (monthly tier), 2026-09-01T00:00:00Z .. 2026-10-01T00:00:00Z
resolution: 1 day (daily tier), 2026-10-01T00:00:00Z .. 2026-11-15T00:00:00Z
resolution: 1 hour (hourly tier), 2026-11-15T00:00:00Z .. 2026-11-24T00:00:00Z
resolution: 5 min (raw tier), 2026-11-24T00:00:00Z .. 2026-11-25T06:00:00Z
X
same "top hosts over four tiers: one line per tier, oldest first" \
    "$WORK/top" top hosts --since 2026-09-01 --until 2026-11-25T06:00:00Z

# A coarse bucket counts when its start is in the window: from noon on
# 2026-10-01 the daily part starts with the 2nd (44 days, 440000000 B),
# and the months are out; 461960000 B over 54 days 18 hours is 781.262
# bit/s.
cat > "$WORK/cut" <<'X'
host,family,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
10.2.0.1,ipv4,461960000,461960000,0,461960,468427440,781.262,0.000
X
awk '{ printf "%s\r\n", $0 }' "$WORK/cut" > "$WORK/cut.csv"
same "csv stays bare RFC 4180: no resolution line, the totals of the tiers read" \
    "$WORK/cut.csv" top hosts --since 2026-10-01T12:00:00Z \
    --until 2026-11-25T06:00:00Z --format csv
"$NT" top hosts --db "$db" --since 2026-10-01T12:00:00Z \
    --until 2026-11-25T06:00:00Z > "$WORK/out" 2>&1
check "a window cutting a daily bucket names the first whole one" \
    grep -qx 'resolution: 1 day (daily tier), 2026-10-02T00:00:00Z .. 2026-11-15T00:00:00Z' \
    "$WORK/out"

# --- series across three tiers, one row a day --------------------------------
cat > "$WORK/series" <<'X'
resolution: 1 day (daily tier), 2026-11-14T00:00:00Z .. 2026-11-15T00:00:00Z
resolution: 1 hour (hourly tier), 2026-11-15T00:00:00Z .. 2026-11-24T00:00:00Z
resolution: 5 min (raw tier), 2026-11-24T00:00:00Z .. 2026-11-25T00:00:00Z
X
"$NT" series --db "$db" --since 2026-11-14 --until 2026-11-25 --step 1d \
    --format csv > "$WORK/out.csv" 2>&1
"$NT" series --db "$db" --since 2026-11-14 --until 2026-11-25 --step 1d \
    > "$WORK/out" 2>&1
tail -n 3 "$WORK/out" > "$WORK/tail"
# One day of each: 10000000 B daily, 24 * 100000 B hourly, 288 * 1000 B raw.
check "series by day reads daily, then hourly, then raw rows" \
    test "$(tr -d '\r' < "$WORK/out.csv" | cut -d, -f3 | tr '\n' ' ')" = \
    "bytes 10000000 2400000 2400000 2400000 2400000 2400000 2400000 2400000 2400000 2400000 288000 "
check "series table: a resolution line per tier" cmp -s "$WORK/series" \
    "$WORK/tail"

# --- series and chart by calendar month ---------------------------------------
# With monthly buckets in the window the default step is the monthly
# tier's: calendar months, rates over each month's length (31, 30, 31 and
# 30 days), November's too, although the window ends on the 25th.  October
# is 31 daily buckets, November 14 daily, 216 hourly and 360 raw.
cat > "$WORK/months" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2026-08-01T00:00:00Z,1785542400,1000000000,1000000000,0,1000000,1014000000,2986.858,0.000
2026-09-01T00:00:00Z,1788220800,1000000000,1000000000,0,1000000,1014000000,3086.420,0.000
2026-10-01T00:00:00Z,1790812800,310000000,310000000,0,310000,314340000,925.926,0.000
2026-11-01T00:00:00Z,1793491200,161960000,161960000,0,161960,164227440,499.877,0.000
X
awk '{ printf "%s\r\n", $0 }' "$WORK/months" > "$WORK/months.csv"
same "series over four tiers steps by calendar month" "$WORK/months.csv" \
    series --since 2026-08-01 --until 2026-11-25T06:00:00Z --format csv
"$NT" chart --db "$db" --since 2026-08-01 --until 2026-11-25T06:00:00Z \
    -o "$WORK/months.svg" > "$WORK/out" 2>&1
check "chart by calendar month: its caption says so" \
    grep -q 'step 1 month</text>' "$WORK/months.svg"
check "chart names the four tiers it read" grep -qF \
    'resolution: monthly 08-01 00:00 - 10-01 00:00; daily 10-01 00:00 - 11-15 00:00; hourly 11-15 00:00 - 11-24 00:00; raw (5 min) 11-24 00:00 - 11-25 06:00</text>' \
    "$WORK/months.svg"

# A quiet window without --step steps by the agent's 5-minute resolution.
awk '{ printf "%s\r\n", $0 }' > "$WORK/quiet.csv" <<'X'
time,epoch,bytes,in_bytes,out_bytes,packets,frame_bytes,in_rate,out_rate
2026-11-29T23:45:00Z,1795995900,0,0,0,0,0,0.000,0.000
2026-11-29T23:50:00Z,1795996200,0,0,0,0,0,0.000,0.000
2026-11-29T23:55:00Z,1795996500,0,0,0,0,0,0.000,0.000
X
# Past the newest bucket: stderr says what time the database holds.
"$NT" series --since 15m --now 2026-11-30T00:00:00Z --format csv --db "$db" \
    > "$WORK/out" 2> "$WORK/err"
rc=$?
check "series of a quiet window: the agent's resolution, rows of zeros (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && cmp -s '$WORK/quiet.csv' '$WORK/out'"
check "  ... and stderr says where the traffic is" test "$(cat "$WORK/err")" = \
    "nettally: series: no traffic from 2026-11-29T23:45:00Z to 2026-11-30T00:00:00Z; the database holds 2026-08-01T00:00:00Z to 2026-11-25T06:00:00Z: choose the window with --since and --until"
# Inside the database's time, a filter that empties the report: no word.
"$NT" top hosts --since 2026-11-24T01:00:00Z --until 2026-11-24T02:00:00Z \
    --proto sctp --db "$db" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "top hosts emptied by a filter inside the database's time: no hint (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$WORK/err' ] && [ \$(wc -l < '$WORK/out') -eq 2 ]"

# A database the store made that no agent has reached yet (the first
# report after an install): the empty table, and stderr says why.
# Before, nothing was said, as if the window were wrong.
start_store "$WORK/fresh.db" && stop_store
"$NT" top hosts --db "$WORK/fresh.db" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "top hosts of a database no agent reached: empty table (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ \$(wc -l < '$WORK/out') -eq 2 ]"
check "  ... and stderr says no agent has delivered yet" test "$(cat "$WORK/err")" = \
    "nettally: top: $WORK/fresh.db holds no traffic yet: no agent has delivered a batch to it; start nettally-agent, and see which agents the store has with nettally status"
# Without interface rows but with a batch (made by hand): no word.
cp "$db" "$WORK/noiface.db"
sqlite3 "$WORK/noiface.db" 'DELETE FROM iface_stat' &&
    nbatch=$(sqlite3 "$WORK/noiface.db" 'SELECT count(*) FROM batch')
"$NT" top hosts --since 1h --db "$WORK/noiface.db" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "  ... which one holding a batch does not get (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ '${nbatch:-0}' -gt 0 ] && [ ! -s '$WORK/err' ]"

done_testing
