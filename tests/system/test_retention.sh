#!/bin/sh
# Retention tiers end to end: 400 days of generated traffic (timestamps in
# the past) through agent and store with small tier lengths.
#  1. Every host, port and peer total equals the generator's, every tier
#     holds rows, each tier bucket equals the generator's intervals summed
#     over it, and nothing older than a tier's cutoff is left in it.
#  2. With --top-ports/--top-peers, host totals stay exact and the ports and
#     peers beyond the top N of a roll-up bucket are in one overflow row.
#  3. SIGKILL of the store at seeded moments during the roll-up loses and
#     doubles nothing.
#  4. Fed 400 days in order (--retention-clock data), the database stops
#     growing once every tier is full.
#  5. A default store keeps a replayed capture of 2005 (ages from the
#     newest bucket); with --retention-clock wall it expires.
# Between 1 and 2, reports over the rolled-up database give the raw
# database's totals and name the tiers they read.
. "$(dirname "$0")/lib.sh"

DAY=86400
NOW=$(date +%s)
START=$((NOW - 400 * DAY))
RES=300
GEN_COMMON="--mix --local-hosts 12 --remote-hosts 200 --flows 400"

# settle: waits until the roll-up is over: the store logged "caught up"
# since the call (a roll-up that ran after the replay, which ended before
# the call, found nothing more) and nothing has moved since its last
# line, or, when no roll-up ends meanwhile, until it has been idle for
# 2 s (progress and the trim queue unchanged; the store looks for work
# every second).  The log cuts the 2 s wait after each of the ten
# roll-ups short.
settle() {
	last=x same=0 i=0
	c0=$(caught_up)
	while [ $i -lt 600 ]; do
		cur=$(sql "SELECT (SELECT total(moved) + total(expired) +
		    total(trimmed) FROM retention_progress) || '/' ||
		    (SELECT count(*) FROM retention_trim)" 2>/dev/null)
		if [ "$cur" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 4 ] && return 0
			c=$(caught_up)
			[ "$c" != "$c0" ] && [ "${c%busy}" = "$c" ] && return 0
		else
			same=0
			last=$cur
		fi
		i=$((i + 1))
		sleep 0.5
	done
	return 1
}

# caught_up: how many times the store log says a roll-up caught up, and
# "busy" after it when its last retention line is a roll-up's start.
caught_up() {
	awk '/retention: caught up/ { n++; busy = "" }
	    /retention: rolling up/ { busy = "busy" }
	    END { print n + 0 busy }' "$WORK/store.log"
}

# replay DIR NAME: the agent replays DIR/in.pcap as NAME.
replay() {
	nets=$(local_nets "$1")
	# shellcheck disable=SC2086
	agent -r "$1/in.pcap" $nets --name "$2" --resolution $RES \
	    2>"$1/agent.err" || { sed 's/^/# /' "$1/agent.err"; return 1; }
}

# Totals of peer_traffic per host, class and direction, as hosts.csv is.
db_peer_hosts() {
	sql "SELECT host, family, $PROTO_CLASS AS pc, direction, sum(packets),
	    sum(bytes), sum(frame_bytes) FROM peer_traffic WHERE agent = '$1'
	    GROUP BY host, family, pc, direction"
}

G=$WORK/g400
mkdir -p "$G"
# shellcheck disable=SC2086
if ! "$NT_GEN" -o "$G/in.pcap" -e "$G" --interval $RES --packets 40000 \
    --seed 81 $GEN_COMMON --start $START --duration $((400 * DAY)); then
	not_ok "generator ran"
	done_testing
	exit 1
fi
chmod 0755 "$G"
chmod 0644 "$G/in.pcap"

# --- 1. exact totals in every tier ----------------------------------------
STORE_ARGS="--keep-raw 2d --keep-hourly 10d --keep-daily 60d --monthly
    --top-ports 0 --top-peers 0 --retention-clock wall"
start_store "$WORK/t1.db" || { not_ok "store starts"; done_testing; exit 1; }
check "400 days replayed" replay "$G" a
check "roll-up settles" settle
# The log says when a roll-up starts, not only when it is over.
start_line=$(grep -n 'retention: rolling up rows older' "$WORK/store.log" | head -1 | cut -d: -f1)
end_line=$(grep -n 'retention: caught up' "$WORK/store.log" | head -1 | cut -d: -f1)
check "the store logs the roll-up's start (line ${start_line:-none}) before its end (line ${end_line:-none})" \
    test "${start_line:-0}" -gt 0 -a "${end_line:-0}" -gt "${start_line:-0}"

db_hosts a >"$WORK/h"
check "host totals over all tiers equal the generator's" \
    same_rows "$G/hosts.csv" "$WORK/h"
db_ports a >"$WORK/p"
check "port totals over all tiers equal the generator's" \
    same_rows "$G/ports.csv" "$WORK/p"
db_peers a >"$WORK/q"
check "peer totals over all tiers equal the generator's" \
    same_rows "$G/peers.csv" "$WORK/q"
sql "SELECT $IFACE_SUMS FROM interface_traffic" >"$WORK/i"
check "interface totals over all tiers equal the generator's" \
    same_rows "$G/interface.csv" "$WORK/i"
frames=$(tail -n 1 "$G/interface.csv" | cut -d, -f1)
check "agent_health.captured still counts every frame" \
    test "$(sql "SELECT sum(captured) FROM agent_health")" = "$frames"

tiers=$(sql "SELECT group_concat(tier || ':' || resolution, '/') FROM
    (SELECT tier, resolution FROM tier_coverage ORDER BY resolution)")
check "four tiers hold rows ($tiers)" \
    test "$tiers" = "raw:300/hourly:3600/daily:86400/monthly:2592000"
# Cutoffs as retention.c computes them (a tier hands on whole buckets of
# the next tier); raw and hourly keep at most keep + one coarser bucket.
old=$(sql "SELECT
    (SELECT count(*) FROM host_stat WHERE resolution = 300
     AND bucket < $NOW - 2 * $DAY - 3600) +
    (SELECT count(*) FROM host_stat WHERE resolution = 3600
     AND bucket < $NOW - 10 * $DAY - $DAY) +
    (SELECT count(*) FROM host_stat WHERE resolution = 86400
     AND bucket < $NOW - 60 * $DAY - 31 * $DAY)")
check "no tier holds rows older than it keeps ($old rows do)" test "$old" = 0
overlap=$(sql "SELECT count(*) FROM tier_coverage a, tier_coverage b
    WHERE a.resolution < b.resolution AND a.first_bucket < b.end_bucket
    AND b.first_bucket < a.end_bucket")
check "tiers cover disjoint times" test "$overlap" = 0

# Each tier row against the generator's 300 s intervals summed over it.
sqlite3 -batch "$WORK/exp.db" >/dev/null <<EOF
.mode csv
.import $G/hosts_by_interval.csv e
EOF
sql "ATTACH '$WORK/exp.db' AS x;
    CREATE TEMP TABLE cov AS SELECT resolution, first_bucket, end_bucket
    FROM tier_coverage;
    WITH m AS (SELECT CAST(e.interval AS INTEGER) AS t, e.*,
    (SELECT resolution FROM cov WHERE CAST(e.interval AS INTEGER) >=
    first_bucket AND CAST(e.interval AS INTEGER) < end_bucket) AS r
    FROM x.e e)
    SELECT CASE r WHEN 2592000 THEN CAST(strftime('%s', t, 'unixepoch',
    'start of month') AS INTEGER) ELSE t - t % r END AS b, host, family,
    proto, direction, sum(packets), sum(bytes_l3), sum(bytes_wire)
    FROM m GROUP BY b, host, family, proto, direction" >"$WORK/exp_b"
echo "header" | cat - "$WORK/exp_b" >"$WORK/exp_b.csv"
db_hosts_by_interval a >"$WORK/hb"
check "every tier bucket equals the generator's intervals within it" \
    same_rows "$WORK/exp_b.csv" "$WORK/hb"
check "store stops cleanly" stop_store

# --- 2. top N ports and peers per host per roll-up bucket -----------------
# One ingest with nothing expiring; parts 2 and 3 roll up copies of it.
STORE_ARGS="--keep-raw 1000d"
start_store "$WORK/raw.db" || { not_ok "store starts"; done_testing; exit 1; }
check "400 days replayed (no roll-up yet)" replay "$G" a
check "store stops cleanly before the roll-ups" stop_store
cp "$WORK/raw.db" "$WORK/t2.db"
cp "$WORK/raw.db" "$WORK/t3.db"

# --- reports over the rolled-up range -----------------------------------
# t1.db holds the 400 days in four tiers (no top N), raw.db the same
# capture raw.  From the start of the month 120 days back (a monthly
# bucket: daily keeps 60 days) a report reads the monthly, daily, hourly
# and raw tiers, says so, and gives exactly the raw database's numbers.
NT=$NT_BIN/nettally
m4=$(date -u -d "@$((NOW - 120 * DAY))" +%Y-%m-01)
m4e=$(date -u -d "$m4" +%s)
for r in hosts ports; do
	"$NT" top $r --db "$WORK/t1.db" --since "$m4" --until all \
	    --limit 100000 --format csv >"$WORK/rt.csv" 2>"$WORK/rt.err"
	"$NT" top $r --db "$WORK/raw.db" --since "$m4" --until all \
	    --limit 100000 --format csv >"$WORK/rr.csv" 2>>"$WORK/rt.err"
	check "top $r since $m4: rolled-up totals equal the raw ones" \
	    test -s "$WORK/rt.csv" -a ! -s "$WORK/rt.err" -a \
	    "$(wc -l <"$WORK/rt.csv")" -gt 2
	check "top $r since $m4: the same csv, byte for byte" \
	    cmp -s "$WORK/rt.csv" "$WORK/rr.csv"
done
# The lines expected from the host rows in the window, the first and end
# bucket of each tier.  Not from tier_coverage: that view goes by the
# interface rows, and a raw bucket at the tier's edge may hold frames
# but no host (the generator's traffic is sparse over 400 days), so the
# two disagreed at some times of day.
sqlite3 -batch -noheader "$WORK/t1.db" "SELECT 'resolution: ' ||
    CASE resolution WHEN 300 THEN '5 min' WHEN 3600 THEN '1 hour'
    WHEN 86400 THEN '1 day' ELSE '1 month' END || ' (' ||
    CASE resolution WHEN 300 THEN 'raw' WHEN 3600 THEN 'hourly'
    WHEN 86400 THEN 'daily' ELSE 'monthly' END || ' tier), ' ||
    strftime('%Y-%m-%dT%H:%M:%SZ', min(bucket), 'unixepoch') || ' .. ' ||
    strftime('%Y-%m-%dT%H:%M:%SZ', CASE resolution WHEN 2592000 THEN
    CAST(strftime('%s', max(bucket), 'unixepoch', '+1 month') AS INTEGER)
    ELSE max(bucket) + resolution END, 'unixepoch')
    FROM host_stat WHERE bucket >= $m4e GROUP BY resolution
    ORDER BY min(bucket)" >"$WORK/rt.want"
"$NT" top hosts --db "$WORK/t1.db" --since "$m4" --until all \
    >"$WORK/rt.out" 2>&1
grep '^resolution: ' "$WORK/rt.out" >"$WORK/rt.got"
check "a report over four tiers names each with the time it read" \
    test "$(wc -l <"$WORK/rt.want")" = 4 -a -s "$WORK/rt.got"
if cmp -s "$WORK/rt.want" "$WORK/rt.got"; then
	ok "... exactly: monthly, daily, hourly, raw, as its rows say"
else
	not_ok "... exactly: monthly, daily, hourly, raw, as its rows say"
	diff "$WORK/rt.want" "$WORK/rt.got" | sed 's/^/# /'
fi
"$NT" top hosts --db "$WORK/raw.db" --since "$m4" --until all \
    >"$WORK/rr.out" 2>&1
check "the raw database's report reads the raw tier only" \
    test "$(grep -c '^resolution: 5 min (raw tier), ' "$WORK/rr.out")" = 1 \
    -a "$(grep -c '^resolution: ' "$WORK/rr.out")" = 1

STORE_ARGS="--keep-raw 2d --keep-hourly 10d --keep-daily 60d --monthly
    --top-ports 2 --top-peers 3 --retention-clock wall"
start_store "$WORK/t2.db" || { not_ok "store starts"; done_testing; exit 1; }
check "roll-up and trim settle" settle
db_hosts a >"$WORK/h"
check "top N: host totals equal the generator's" \
    same_rows "$G/hosts.csv" "$WORK/h"
db_peer_hosts a >"$WORK/ph"
check "top N: peers summed per host equal the generator's host totals" \
    same_rows "$G/hosts.csv" "$WORK/ph"
over=$(sql "SELECT count(*) FROM (SELECT bucket, iface_id, host_id
    FROM peer_stat WHERE resolution >= 3600 AND peer_id <>
    (SELECT id FROM address WHERE family = 0)
    GROUP BY bucket, iface_id, host_id HAVING count(DISTINCT peer_id) > 3)")
check "top N: no roll-up bucket keeps more than 3 peers of a host" \
    test "$over" = 0
over=$(sql "SELECT count(*) FROM (SELECT bucket, iface_id, host_id
    FROM port_stat WHERE resolution >= 3600 AND port <> 0
    GROUP BY bucket, iface_id, host_id
    HAVING count(DISTINCT proto * 65536 + port) > 2)")
check "top N: no roll-up bucket keeps more than 2 ports of a host" \
    test "$over" = 0
n=$(sql "SELECT count(*) FROM peer_traffic WHERE peer = 'overflow'
    AND resolution >= 3600")
check "top N: overflow peer rows hold the rest ($n rows)" test "$n" -gt 0
p=$(sql "SELECT sum(packets) FROM port_stat")
e=$(tail -n +2 "$G/ports.csv" | awk -F, '{ s += $6 } END { print s }')
check "top N: port packets still sum to the generator's ($e)" test "$p" = "$e"
raw_peers=$(sql "SELECT count(*) FROM peer_stat WHERE resolution = 300
    AND peer_id = (SELECT id FROM address WHERE family = 0)")
check "top N: the raw tier is left whole" test "$raw_peers" = 0
check "store stops cleanly (top N)" stop_store

# --- 3. SIGKILL during the roll-up ----------------------------------------
# The same ingest rolled up with small tiers, the store killed at fixed
# moments (the roll-up of it takes a few seconds).
STORE_ARGS="--keep-raw 2d --keep-hourly 10d --keep-daily 60d --monthly
    --top-ports 0 --top-peers 4 --retention-clock wall"
DB=$WORK/t3.db
raw0=$(sql "SELECT count(*) FROM host_stat WHERE resolution = 300")
kills=0
partial=0
for ms in 150 100 200 120 250 150 300 200; do
	start_store "$WORK/t3.db" || break
	sleep "$(echo "$ms" | awk '{ printf "%.3f", $1 / 1000 }')"
	kill -KILL "$STORE_PID"
	wait "$STORE_PID" 2>/dev/null
	STORE_PID=
	kills=$((kills + 1))
	raw=$(sql "SELECT count(*) FROM host_stat WHERE resolution = 300")
	[ "$raw" -lt "$raw0" ] && [ "$raw" -gt 0 ] && partial=$((partial + 1))
	raw0=$raw
done
check "store killed $kills times, $partial of them mid-roll-up" \
    test "$kills" = 8 -a "$partial" -ge 2
check "store restarts after the kills" start_store "$WORK/t3.db"
check "roll-up finishes after the kills" settle
check "integrity_check after the kills" \
    test "$(sql "PRAGMA integrity_check")" = ok
db_hosts a >"$WORK/h"
check "after kills: host totals equal the generator's" \
    same_rows "$G/hosts.csv" "$WORK/h"
db_ports a >"$WORK/p"
check "after kills: port totals equal the generator's" \
    same_rows "$G/ports.csv" "$WORK/p"
db_peer_hosts a >"$WORK/ph"
check "after kills: peers summed per host equal the generator's" \
    same_rows "$G/hosts.csv" "$WORK/ph"
sql "SELECT $IFACE_SUMS FROM interface_traffic" >"$WORK/i"
check "after kills: interface totals equal the generator's" \
    same_rows "$G/interface.csv" "$WORK/i"
check "store stops cleanly after the kills" stop_store

# --- 4. the file stops growing once every tier is full --------------------
# Five 80-day captures in time order; ages count from the newest bucket,
# so each capture ages the ones before it as the days would.
STORE_ARGS="--keep-raw 2d --keep-hourly 7d --keep-daily 30d
    --retention-clock data"
start_store "$WORK/t4.db" || { not_ok "store starts"; done_testing; exit 1; }
sizes=""
k=0
while [ $k -lt 5 ]; do
	c=$WORK/c$k
	mkdir -p "$c"
	# shellcheck disable=SC2086
	"$NT_GEN" -o "$c/in.pcap" -e "$c" --packets 8000 --seed $((90 + k)) \
	    $GEN_COMMON --start $((START + k * 80 * DAY)) \
	    --duration $((80 * DAY)) || break
	chmod 0755 "$c"
	chmod 0644 "$c/in.pcap"
	replay "$c" a || break
	settle || break
	sizes="$sizes $(sql "PRAGMA page_count")"
	k=$((k + 1))
done
check "five 80-day captures fed in order" test $k = 5
echo "# database pages after each capture:$sizes"
# Every tier is full from the first capture on (30 days < 80): from then
# on the file may only wobble with the traffic, never grow with time.
grow=$(echo "$sizes" | awk '{ for (i = 2; i <= NF; i++)
    if ($i > $1 * 1.15) n++; print n + 0 }')
check "the file stops growing once every tier is full ($sizes)" \
    test "$grow" = 0
check "store stops cleanly (size)" stop_store

# --- 5. a default store keeps a replayed capture of 2005 ------------------
# Ages count from the newest stored bucket by default: 20 days of 2005,
# more than 5 years old by the wall clock, are rolled up as the last 20
# days would be, not expired.  With --retention-clock wall they are gone
# at the first step (and the log says how many rows expired).
OLD=$WORK/old
mkdir -p "$OLD"
# shellcheck disable=SC2086
"$NT_GEN" -o "$OLD/in.pcap" -e "$OLD" --interval $RES --packets 4000 \
    --seed 95 $GEN_COMMON --start 1104537600 --duration $((20 * DAY)) ||
    not_ok "generator ran (2005)"
chmod 0755 "$OLD"
chmod 0644 "$OLD/in.pcap"
# The defaults (lib.sh's start_store keeps raw 100 years unless told).
STORE_ARGS="--keep-raw 7d"
start_store "$WORK/t5.db" || { not_ok "store starts"; done_testing; exit 1; }
check "2005 replayed into a default store" replay "$OLD" a
check "roll-up settles (2005)" settle
db_hosts a >"$WORK/h5"
check "2005: host totals equal the generator's after retention" \
    same_rows "$OLD/hosts.csv" "$WORK/h5"
check "2005: nothing expired, the older days rolled up hourly" \
    test "$(sql "SELECT total(expired) FROM retention_progress")" = 0.0 \
    -a "$(sql "SELECT count(*) FROM host_stat WHERE resolution = 3600")" -gt 0
check "store stops cleanly (2005)" stop_store
STORE_ARGS="--keep-raw 7d --retention-clock wall"
start_store "$WORK/t5w.db" || { not_ok "store starts"; done_testing; exit 1; }
check "2005 replayed into a wall-clock store" replay "$OLD" a
check "roll-up settles (2005, wall clock)" settle
check "2005, wall clock: past the last tier, every row expired" \
    test "$(sql "SELECT count(*) FROM host_stat")" = 0
check "store stops cleanly (2005, wall clock)" stop_store

done_testing
