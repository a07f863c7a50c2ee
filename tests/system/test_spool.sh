#!/bin/sh
# The agent's spool (--spool DIR): nothing the agent has encoded is lost
# when it is killed, and its next start delivers it exactly once.
#
# Two generated captures, part 1 and part 2 (other seed, later start);
# the expected totals of a run over both are the sums of the generator's
# two independent counts.  Cases:
#  1. store down: the agent spools all of part 1 and is killed (SIGKILL);
#     with the store up, an agent of the same name on part 2 replays the
#     spool first: totals equal part 1 + part 2 exactly; part 1's file
#     stays as a mark of where its run stopped, so part 1 run again
#     resumes at its end and counts nothing twice.
#  2. store up but frozen (SIGSTOP) mid-run, the agent killed after its
#     last batch is spooled: some batches were committed, some maybe in
#     flight; the replay's WELCOME says which, nothing is counted twice.
#  3. a torn tail (the file cut by a few bytes, after the agent was told
#     to stop twice and said it kept its batches): the broken record is
#     skipped with a log line, the batches before it land, part 2 exactly,
#     and part 1 run again counts the torn flush: part 1 exactly.
#  4. a run of the same name without --spool between the kill and the
#     restart: the store has left the spooled epoch for a newer one, and
#     the replay's WELCOME must still name what it has of the old one.
#  5. a world-writable spool directory is refused, from the command line
#     and from the configuration file.
#  6. the store away and a 1 MiB --spool-max-mb (and --max-queue-mb): the
#     file replay stops reading at the cap instead of growing the file,
#     and delivers everything, some of it read back from disk, once the
#     store is back.
# Everything runs under the default seccomp filter; as root, the agent
# drops to the nettally user, which owns the spool directories.
. "$(dirname "$0")/lib.sh"

dir=$WORK/gen
mkdir -p "$dir/1" "$dir/2"
"$NT_GEN" -o "$dir/p1.pcap" -e "$dir/1" --interval 60 --packets 20000 \
    --mix --seed 31 --local-hosts 100 --remote-hosts 1000 --flows 4000 \
    --start 1700000000 --duration 600 >/dev/null &&
"$NT_GEN" -o "$dir/p2.pcap" -e "$dir/2" --interval 60 --packets 20000 \
    --mix --seed 32 --local-hosts 100 --remote-hosts 1000 --flows 4000 \
    --start 1700000600 --duration 600 >/dev/null ||
    { not_ok "generator ran"; done_testing; exit 1; }

# sums OUT PART...: the expected counts of a run over the parts, in OUT
# (hosts, ports, peers: every column but the last three is the key).
sums() {
	out=$1; shift
	mkdir -p "$out"
	for f in hosts ports peers; do
		for d in "$@"; do echo "$d/$f.csv"; done >"$out/list"
		# shellcheck disable=SC2046
		awk -F, 'FNR == 1 { h = $0; next }
		    { k = $1; for (i = 2; i <= NF - 3; i++) k = k "," $i
		      p[k] += $(NF - 2); b[k] += $(NF - 1); fb[k] += $NF }
		    END { print h; for (k in p)
		      printf "%s,%d,%d,%d\n", k, p[k], b[k], fb[k] }' \
		    $(cat "$out/list") >"$out/$f.csv"
	done
	for d in "$@"; do tail -n 1 "$d/interface.csv"; done |
	    awk -F, '{ for (i = 1; i <= NF; i++) s[i] += $i; n = NF }
	    END { for (i = 1; i <= n; i++)
	      printf "%s%d", (i > 1 ? "," : ""), s[i]; print "" }' \
	    >"$out/interface"
}
sums "$dir/12" "$dir/1" "$dir/2"
sums "$dir/122" "$dir/1" "$dir/2" "$dir/2"
nets=$(local_nets "$dir/1")

SOCK=$WORK/sock
AGENT_PID=
stop_agent() { [ -n "${AGENT_PID:-}" ] && kill -KILL "$AGENT_PID" 2>/dev/null; }
cont_store() { [ -n "${STORE_PID:-}" ] && kill -CONT "$STORE_PID" 2>/dev/null; }
CLEANUP_HOOKS="cont_store stop_agent $CLEANUP_HOOKS"

# run_agent NAME SPOOL LOG ARGS...: an agent in the background, small
# tables and flushes for many batches, its input from $AGENT_IN (a
# background command's own stdin would be /dev/null).
run_agent() {
	n=$1 sp=$2 log=$3; shift 3
	# shellcheck disable=SC2086
	"$NT_BIN/nettally-agent" -s "$SOCK" $nets --name "$n" --resolution 60 \
	    --flush 10 --max-hosts 256 --max-ports 256 --max-peers 256 \
	    --spool "$sp" "$@" <"${AGENT_IN:-/dev/null}" 2>"$log" 3>&- &
	AGENT_PID=$!
}

# finish_agent DESC: waits for the background agent; ok when it exits 0.
finish_agent() {
	i=0
	while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	stop_agent
	reap_agent
	check "$1 (status $rc)" test "$rc" -eq 0
}

# kill_when_spooled LOG: SIGKILL once the agent says all is in its spool.
kill_when_spooled() {
	if wait_for "grep -q 'every batch is in' '$1' 2>/dev/null" 300; then
		ok "the agent has every batch in its spool"
	else
		not_ok "the agent has every batch in its spool"
		sed 's/^/# /' "$1" | tail -n 5
	fi
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# totals NAME [EXPECTED]: every view's totals equal the expected sums
# (default part 1 + part 2).
totals() {
	e=${2:-$dir/12}
	db_hosts "$1" >"$WORK/db_hosts"
	check "$1: host_traffic totals equal ${e##*/}" \
	    same_rows "$e/hosts.csv" "$WORK/db_hosts"
	db_ports "$1" >"$WORK/db_ports"
	check "$1: port_traffic totals equal ${e##*/}" \
	    same_rows "$e/ports.csv" "$WORK/db_ports"
	db_peers "$1" >"$WORK/db_peers"
	check "$1: peer_traffic totals equal ${e##*/}" \
	    same_rows "$e/peers.csv" "$WORK/db_peers"
	got=$(sql "SELECT sum(frames), sum(frame_bytes), sum(ipv4_packets),
	    sum(ipv6_packets), sum(non_ip_frames), sum(transit_packets),
	    sum(malformed_frames) FROM interface_traffic WHERE agent = '$1'")
	check "$1: interface_traffic totals equal ${e##*/} ($got)" \
	    test "$got" = "$(cat "$e/interface")"
}

# once NAME: every epoch's batches recorded once, none missing.
once() {
	bad=$(sql "SELECT count(*) FROM (SELECT b.epoch FROM batch b
	    JOIN agent a ON a.id = b.agent_id WHERE a.name = '$1'
	    GROUP BY b.epoch HAVING count(*) != max(seq)
	    OR count(DISTINCT seq) != count(*))")
	check "$1: each epoch's batches recorded once, none missing" \
	    test "$bad" = 0
}

empty_dir() { [ -z "$(ls -A "$1")" ]; }

# 1. The store down: everything of part 1 waits in the spool.
sp=$(spool_dir spool1) || { not_ok "spool directory"; done_testing; exit 1; }
run_agent s1 "$sp" "$WORK/s1a.log" -r "$dir/p1.pcap"
kill_when_spooled "$WORK/s1a.log"
check "store away: the agent said so and spooled" \
    grep -q "batches wait in the spool" "$WORK/s1a.log"
check "a spool file is left for the next start" \
    test "$(ls "$sp" | grep -c '^s1\.[0-9]*\.spool$')" = 1
# What an agent killed while creating its file leaves: an empty file.
: >"$sp/s1.123.spool"
[ "$(id -u)" = 0 ] && chown nettally "$sp/s1.123.spool"
start_store || { not_ok "store starts"; done_testing; exit 1; }
run_agent s1 "$sp" "$WORK/s1b.log" -r "$dir/p2.pcap"
finish_agent "restarted on part 2: delivers everything and exits 0"
check "a file torn while created is removed, with a log line" \
    grep -q "s1.123.spool: no spool header, no batch in it; removed" \
    "$WORK/s1b.log"
check "the replay is logged" grep -q "replayed: [1-9][0-9]* batch(es) sent" \
    "$WORK/s1b.log"
totals s1
once s1
# Part 1's file was a -r run's: delivered, it stays as where that run
# stopped, its end, so that part 1 run again is not counted twice.
check "part 1's file is kept as a mark, for the next run over part 1" \
    grep -q "s1\.[0-9]*\.spool: kept as where a run over another file or filter stopped (packet 20000)" \
    "$WORK/s1b.log"
run_agent s1 "$sp" "$WORK/s1c.log" -r "$dir/p1.pcap"
finish_agent "part 1 again: exits 0"
check "... resuming at its end" \
    grep -q "resuming .*p1\.pcap at packet 20000," "$WORK/s1c.log"
totals s1
check "the spool directory is empty afterwards" empty_dir "$sp"
# The first run's later batches were built while earlier ones waited on
# disk: agent_health.spooled shows it, at most the file's record bytes.
sp1=$(sql "SELECT max(spooled) FROM agent_health WHERE agent = 's1'
    AND iface = 'p1.pcap'")
rec=$(sed -n 's/.*replaying [0-9]* batch(es) of epoch [0-9]* (\([0-9]*\) bytes).*/\1/p' \
    "$WORK/s1b.log")
check "agent_health.spooled shows what waited in the spool ($sp1 of $rec bytes)" \
    test "${sp1:-0}" -gt 0 -a "${sp1:-0}" -le "$((${rec:-0} + 8 * 100))"

committed() {
	sql "SELECT count(*) FROM batch JOIN agent ON agent.id = batch.agent_id
	    WHERE agent.name = '$1'"
}

# freeze_kill NAME SPOOL: part 1 through a pipe into an agent with the
# store up; after 3 batches are committed the store is frozen (SIGSTOP),
# the rest of part 1 goes in, and once it is all spooled the agent is
# killed and the store thawed.  Sets $before, the batches committed.
freeze_kill() {
	rm -f "$WORK/feed"
	mkfifo "$WORK/feed"
	# Read-write, so neither end waits for the other to open; the agent
	# sees the end of the capture when fd 3 closes.
	exec 3<>"$WORK/feed"
	AGENT_IN=$WORK/feed run_agent "$1" "$2" "$WORK/$1a.log" -r -
	size=$(stat -c %s "$dir/p1.pcap")
	head -c $((size / 4)) "$dir/p1.pcap" >&3
	wait_for "[ \$(committed $1) -ge 3 ]" 300 ||
	    echo "# fewer than 3 batches committed"
	before=$(committed "$1")
	kill -STOP "$STORE_PID"
	tail -c +$((size / 4 + 1)) "$dir/p1.pcap" >&3
	exec 3>&-
	kill_when_spooled "$WORK/$1a.log"
	kill -CONT "$STORE_PID"
	echo "# $before batches committed before the store froze"
}

# replayed_ok NAME N: the store's Nth HELLO from NAME is the replay's: its
# WELCOME last_seq covers at least what was committed before the freeze,
# and the replay sent the rest.
replayed_ok() {
	line=$(grep "replayed:" "$WORK/$1b.log")
	echo "# ${line#*replayed: }"
	last=$(grep -o "agent $1 (pid [0-9]*) epoch .*last seq [0-9]*" \
	    "$WORK/store.log" | sed -n "$2s/.*last seq //p")
	check "$1: the replay's WELCOME names what the store had (${last:-none} >= $before)" \
	    test "${last:-0}" -ge "$before" -a "$before" -gt 0
	check "$1: and the replay sent the rest" \
	    grep -q "replayed: [1-9][0-9]* batch(es) sent" "$WORK/$1b.log"
}

# 2. The store up, then frozen: some batches committed, more in flight.
sp=$(spool_dir spool2) || { not_ok "spool directory"; done_testing; exit 1; }
freeze_kill s2 "$sp"
run_agent s2 "$sp" "$WORK/s2b.log" -r "$dir/p2.pcap"
finish_agent "restarted on part 2 after the freeze: exits 0"
replayed_ok s2 2
totals s2
once s2
check "the spool directory is empty afterwards" empty_dir "$sp"

# 4. As 2, but an agent of the same name without --spool runs part 2
# before the spooled restart (part 2 again): the store's agent row has
# moved on to that run's epoch when the replay says HELLO for the old one.
sp=$(spool_dir spool4) || { not_ok "spool directory"; done_testing; exit 1; }
freeze_kill s4 "$sp"
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$SOCK" $nets --name s4 --resolution 60 \
    --flush 10 -r "$dir/p2.pcap" 2>"$WORK/s4n.log"
check "s4: a run without --spool in between exits 0" test $? = 0
run_agent s4 "$sp" "$WORK/s4b.log" -r "$dir/p2.pcap"
finish_agent "s4: the spooled restart delivers everything and exits 0"
replayed_ok s4 3
totals s4 "$dir/122"
once s4
check "s4: the spool directory is empty afterwards" empty_dir "$sp"

# 3. A torn tail: cut the spooled file by a few bytes.
stop_store
sp=$(spool_dir spool3) || { not_ok "spool directory"; done_testing; exit 1; }
run_agent s3 "$sp" "$WORK/s3a.log" -r "$dir/p1.pcap"
wait_for "grep -q 'every batch is in' '$WORK/s3a.log' 2>/dev/null" 300
# At the end of a file the agent has stopped counting: one signal is
# already the second, that gives up waiting.  A second one, if needed.
kill -TERM "$AGENT_PID"
sleep 0.3
term_agent
check "SIGTERM ends the wait for the store: exit 0 ($rc)" test "$rc" = 0
check "... saying the batches are kept for the next start" \
    grep -q "batch(es) not acknowledged by the store kept in spool" \
    "$WORK/s3a.log"
f=$(ls "$sp"/s3.*.spool)
truncate -s -5 "$f"
start_store "$DB"
run_agent s3 "$sp" "$WORK/s3b.log" -r "$dir/p2.pcap"
finish_agent "restarted on a torn spool: exits 0"
check "the torn record is logged" \
    grep -q "torn or corrupt record at offset [0-9]*: 5 byte(s) skipped\|torn or corrupt record at offset [0-9]*: [0-9]* byte(s) skipped" \
    "$WORK/s3b.log"
nrep=$(sed -n 's/.*replaying \([0-9]*\) batch(es).*/\1/p' "$WORK/s3b.log")
old=$(sql "SELECT count(*), max(seq) FROM batch b JOIN agent a
    ON a.id = b.agent_id WHERE a.name = 's3' AND b.epoch = (SELECT min(epoch)
    FROM batch WHERE agent_id = a.id)")
check "the intact batches landed: seq 1..$nrep ($old)" \
    test "$old" = "$nrep,$nrep" -a "${nrep:-0}" -gt 0
sql "SELECT sum(frames), sum(frame_bytes), sum(ipv4_packets),
    sum(ipv6_packets), sum(non_ip_frames), sum(transit_packets),
    sum(malformed_frames) FROM interface_traffic
    WHERE agent = 's3' AND iface = 'p2.pcap'" >"$WORK/s3_iface"
check "part 2 after the torn spool is exact" \
    test "$(cat "$WORK/s3_iface")" = "$(tail -n 1 "$dir/2/interface.csv")"
p1=$(sql "SELECT sum(frames) FROM interface_traffic
    WHERE agent = 's3' AND iface = 'p1.pcap'")
all1=$(tail -n 1 "$dir/1/interface.csv" | cut -d, -f1)
check "part 1 lost only the torn batch ($p1 of $all1 frames)" \
    test "${p1:-0}" -gt 0 -a "${p1:-0}" -lt "$all1"
# The torn batch's flush was never sent: part 1 run again resumes before
# it and counts it.
run_agent s3 "$sp" "$WORK/s3c.log" -r "$dir/p1.pcap"
finish_agent "part 1 again after the torn spool: exits 0"
p1=$(sql "SELECT sum(frames), sum(frame_bytes), sum(ipv4_packets),
    sum(ipv6_packets), sum(non_ip_frames), sum(transit_packets),
    sum(malformed_frames) FROM interface_traffic
    WHERE agent = 's3' AND iface = 'p1.pcap'")
check "... and counts the torn flush's packets: part 1 exact ($p1)" \
    test "$p1" = "$(tail -n 1 "$dir/1/interface.csv")"
check "the spool directory is empty afterwards" empty_dir "$sp"

# 5. A spool directory anyone may write into is refused.
mkdir -m 0777 "$WORK/ww"
chmod 0777 "$WORK/ww"
"$NT_BIN/nettally-agent" -s "$SOCK" -r "$dir/p1.pcap" --spool "$WORK/ww" \
    2>"$WORK/ww.log"
rc=$?
check "world-writable --spool refused with status 1 ($rc)" test "$rc" = 1
check "... saying why and the fix" \
    grep -q "writable by every user.*chmod o-w" "$WORK/ww.log"
printf 'spool = %s\n' "$WORK/ww" >"$WORK/agent.conf"
"$NT_BIN/nettally-agent" --config "$WORK/agent.conf" -s "$SOCK" \
    -r "$dir/p1.pcap" 2>"$WORK/ww2.log"
rc=$?
check "the same from the configuration file ($rc)" \
    grep -q "writable by every user" "$WORK/ww2.log"
# 6. The spool's cap: the store away, a file replay holds at 1 MiB.
stop_store
sp=$(spool_dir spool6) || { not_ok "spool directory"; done_testing; exit 1; }
run_agent s6 "$sp" "$WORK/s6.log" -r "$dir/p1.pcap" --spool-max-mb 1 \
    --max-queue-mb 1
fsize() { stat -c %s "$sp"/s6.*.spool 2>/dev/null || echo 0; }
wait_for "[ \$(fsize) -gt 1048576 ]" 300
sleep 0.5
a=$(fsize)
sleep 1
b=$(fsize)
check "the spool stops at its cap while the store is away ($a, $b bytes)" \
    test "$a" = "$b" -a "$b" -lt $((1048576 + 262144))
check "... and the replay waits, unfinished" \
    test -z "$(grep 'every batch is in' "$WORK/s6.log")"
start_store "$DB"
finish_agent "s6: once the store is back, everything is delivered, exit 0"
sums "$dir/only1" "$dir/1"
totals s6 "$dir/only1"
once s6
check "s6: the spool directory is empty afterwards" empty_dir "$sp"

check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
