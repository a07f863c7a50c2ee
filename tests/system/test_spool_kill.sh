#!/bin/sh
# Resuming a killed agent from its spool: SIGKILL the agent five times
# while it reads a million generated packets (-r FILE --spool DIR), restart
# it each time on the same FILE with the same --spool and --name, and
# require every view to equal the generator's independent count exactly.
# The agent's counts since its last flush die with it; its spool says how
# far into FILE the spooled flushes reach, and the next start reads past
# that many packets and counts the rest (spool.h, sender_spool.c).
#
# The kill moments come from a fixed seed and are tied to progress, as in
# test_crash.sh: kill k happens once the store has committed a seeded
# number of further batches of the running epoch, after a seeded pause of
# 0..250 ms.  A 1 MiB --spool-max-mb ties the reading to the store's
# commits (without it the agent would read ahead into its spool at full
# speed and the kills would all fall at the end): the agent runs up to
# 1 MiB of batches ahead of the store, so every kill leaves batches the
# store has not acknowledged in the spool.  At the third kill the store
# is down (killed first), and the next start, itself begun with the
# store still down, resumes and replays them once the store is back.
# Each start after a kill must log one "resuming FILE at packet N" line,
# N growing.
#
# Then: an agent killed on FILE, FILE rewritten in place with another
# capture, and a start on it: no resume (another input), the new capture
# counted whole, exactly.  And an agent stopped by SIGTERM before the end
# of its file: its spool file stays, the next start resumes there and the
# totals are exact; a run that finished leaves no spool file, so the same
# file run once more is counted once more.  And the spool on a full disk
# (a small tmpfs the test mounts): the replay waits with its batches in
# memory, none of them sent until they are in the file; killed, the next
# start resumes exactly; not killed, it writes them once there is space
# and goes on, exactly.
. "$(dirname "$0")/lib.sh"

SEED=${NT_KILL_SEED:-5151}
NAME=akill
dir=$WORK/gen
mkdir -p "$dir" "$dir/a" "$dir/b"
if ! "$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 1000000 \
    --mix --seed 21 --local-hosts 500 --remote-hosts 5000 --flows 20000 \
    --size 64 --duration 1200 ||
    ! "$NT_GEN" -o "$dir/a.pcap" -e "$dir/a" --interval 60 --packets 20000 \
    --mix --seed 31 --local-hosts 100 --remote-hosts 1000 --flows 4000 \
    --start 1700000000 --duration 600 >/dev/null ||
    ! "$NT_GEN" -o "$dir/b.pcap" -e "$dir/b" --interval 60 --packets 20000 \
    --mix --seed 32 --local-hosts 100 --remote-hosts 1000 --flows 4000 \
    --start 1700007200 --duration 600 >/dev/null; then
	not_ok "generator ran"
	done_testing
	exit 1
fi

AGENT_PID=
stop_agent() { [ -n "${AGENT_PID:-}" ] && kill -KILL "$AGENT_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_agent"

# run_agent NAME SPOOL LOG FILE ARGS...: an agent in the background.
run_agent() {
	n=$1 sp=$2 log=$3 f=$4; shift 4
	# shellcheck disable=SC2086
	"$NT_BIN/nettally-agent" -s "$WORK/sock" -r "$f" $nets --name "$n" \
	    --resolution 60 --flush 10 --spool "$sp" "$@" 2>"$log" &
	AGENT_PID=$!
}


# counted_once NAME LABEL HOSTS_LABEL: agent NAME's rows equal part a's
# generator counts, interface totals (LABEL) and per host (HOSTS_LABEL).
counted_once() {
	got=$(db_iface "$1")
	check "$2 ($got)" test "$got" = "$(tail -n 1 "$dir/a/interface.csv")"
	db_hosts "$1" >"$WORK/$1_hosts"
	check "$3" same_rows "$dir/a/hosts.csv" "$WORK/$1_hosts"
}

# kill_agent: SIGKILL the background agent and reap it.
kill_agent() {
	kill -KILL "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# newest_epoch DIR: the epoch (start time) of the newest spool file in
# DIR: a run creates its file before anything else, and a killed run's
# file stays.  committed_since NAME EPOCH: the batches the store has of
# epochs after EPOCH: a newer run's, not the replays of earlier ones.
newest_epoch() {
	ls "$1" | sed -n 's/.*\.\([0-9]*\)\.spool$/\1/p' | sort -n | tail -n 1
}
committed_since() {
	sql "SELECT count(*) FROM batch b JOIN agent a ON a.id = b.agent_id
	    WHERE a.name = '$1' AND b.epoch > $2" 2>/dev/null || echo 0
}
spool_bytes() { cat "$1"/* 2>/dev/null | wc -c; }
empty_dir() { [ -z "$(ls -A "$1")" ]; }
pause() { sleep "$(awk -v p="$1" 'BEGIN { printf "%.3f", p / 1000 }')"; }

start_store || { not_ok "store starts"; done_testing; exit 1; }
nets=$(local_nets "$dir")
sp=$(spool_dir spool) || { not_ok "spool directory"; done_testing; exit 1; }
KARGS="--max-hosts 2048 --max-ports 4096 --max-peers 4096 --spool-max-mb 1"

# shellcheck disable=SC2086
run_agent "$NAME" "$sp" "$WORK/agent.0" "$dir/in.pcap" $KARGS
# Five (batches to wait for, pause in ms) pairs from the seed.
plan=$(awk -v s="$SEED" 'BEGIN { srand(s); for (i = 0; i < 5; i++)
    printf "%d:%d ", 5 + int(rand() * 20), int(rand() * 250) }')
nkill=0
since=0
for step in $plan; do
	want=${step%%:*}
	i=0
	while [ "$(committed_since "$NAME" "$since")" -lt "$want" ] &&
	    kill -0 "$AGENT_PID" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 1200 ] && break
		sleep 0.05
	done
	kill -0 "$AGENT_PID" 2>/dev/null || break
	if [ "$nkill" = 2 ]; then
		# The store goes first: the agent spools on, up to the cap.
		kill -KILL "$STORE_PID"
		wait "$STORE_PID" 2>/dev/null
		STORE_PID=
	fi
	pause "${step#*:}"
	[ -z "$STORE_PID" ] && down_bytes=$(spool_bytes "$sp")
	kill_agent
	nkill=$((nkill + 1))
	echo "# kill $nkill after $(committed_since "$NAME" "$since") batches of the epoch committed"
	since=$(newest_epoch "$sp")
	# shellcheck disable=SC2086
	run_agent "$NAME" "$sp" "$WORK/agent.$nkill" "$dir/in.pcap" $KARGS
	if [ -z "$STORE_PID" ]; then
		# The new start finds no store: it resumes all the same.
		wait_for "grep -q 'resuming' '$WORK/agent.$nkill'" 100
		sleep 0.3
		start_store "$DB" || break
	fi
done
check "the agent was killed five times during the replay" test "$nkill" -eq 5
check "with the store down at a kill, the spool held its batches (${down_bytes:-0} bytes)" \
    test "${down_bytes:-0}" -gt 65536

reap_agent
if [ "$rc" -eq 0 ]; then
	ok "the last start delivers everything and exits 0"
else
	not_ok "the last start delivers everything and exits 0 (status $rc)"
	tail -n 5 "$WORK/agent.$nkill" | sed 's/^/# /'
fi

# One resume line per start after a kill, at growing packet numbers.
check "the first start resumes nothing" \
    test -z "$(grep resuming "$WORK/agent.0")"
prev=-1
k=1
while [ $k -le 5 ]; do
	n=$(sed -n "s/.*resuming .*in\.pcap at packet \([0-9]*\),.*/\1/p" \
	    "$WORK/agent.$k" 2>/dev/null)
	if [ -n "$n" ] && [ "$(echo "$n" | wc -l)" = 1 ] &&
	    [ "$n" -gt "$prev" ] && [ "$n" -lt 1000000 ]; then
		ok "start $k resumes at packet $n"
	else
		not_ok "start $k resumes at one growing packet number ('$n' after $prev)"
		tail -n 5 "$WORK/agent.$k" 2>/dev/null | sed 's/^/# /'
	fi
	prev=${n:-$prev}
	k=$((k + 1))
done
check "the start after the store-down kill replayed the spooled batches" \
    grep -q "replayed: [1-9][0-9]* batch(es) sent" "$WORK/agent.3"

views_equal "$NAME" "$dir"
frames=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)
captured=$(sql "SELECT sum(captured) FROM agent_health WHERE agent = '$NAME'")
check "agent_health.captured counts every frame once ($captured of $frames)" \
    test "$captured" = "$frames"
# Every epoch's seqs recorded once, none missing: a flush torn by a kill
# was cut off, never sent, so no epoch has a gap.
bad=$(sql "SELECT count(*) FROM (SELECT b.epoch FROM batch b
    JOIN agent a ON a.id = b.agent_id WHERE a.name = '$NAME'
    GROUP BY b.epoch HAVING count(*) != max(seq)
    OR count(DISTINCT seq) != count(*))")
nep=$(sql "SELECT count(DISTINCT b.epoch) FROM batch b JOIN agent a
    ON a.id = b.agent_id WHERE a.name = '$NAME'")
check "each of the $nep epochs' batches recorded once, none missing" \
    test "$bad" = 0 -a "$nep" -ge 6
check "the spool directory is empty afterwards" empty_dir "$sp"

# 2. FILE rewritten in place after a kill: not the input the spool names.
sp2=$(spool_dir spool2) || { not_ok "spool directory"; done_testing; exit 1; }
cp "$dir/a.pcap" "$WORK/in2.pcap"
run_agent adiff "$sp2" "$WORK/diff.0" "$WORK/in2.pcap" --max-hosts 256 \
    --max-ports 256 --max-peers 256 --spool-max-mb 1
wait_for "[ \$(committed_since adiff 0) -ge 3 ]" 300 ||
    echo "# fewer than 3 batches committed"
kill_agent
check "the agent on the first capture left its spool file" \
    test -n "$(ls "$sp2")"
cat "$dir/b.pcap" >"$WORK/in2.pcap"
run_agent adiff "$sp2" "$WORK/diff.1" "$WORK/in2.pcap" --max-hosts 256 \
    --max-ports 256 --max-peers 256
reap_agent
check "a start on the rewritten file exits 0 ($rc)" test "$rc" = 0
check "... and resumes nothing" test -z "$(grep resuming "$WORK/diff.1")"
iface_counted "the rewritten file is counted whole, exactly" adiff \
    "bucket >= 1700007000" "$dir/b/interface.csv"
sql "SELECT host, family, $PROTO_CLASS AS pc, direction, sum(packets),
    sum(bytes), sum(frame_bytes) FROM host_traffic WHERE agent = 'adiff'
    AND bucket >= 1700007000 GROUP BY host, family, pc, direction" \
    >"$WORK/diff_hosts"
check "... per host too" same_rows "$dir/b/hosts.csv" "$WORK/diff_hosts"
check "the spool directory is empty afterwards" empty_dir "$sp2"

# 3. SIGTERM before the end of the file, then the same file to the end.
sp3=$(spool_dir spool3) || { not_ok "spool directory"; done_testing; exit 1; }
# Small tables, many batches: a replay keeps one set of twice the caps.
SARGS="--max-hosts 128 --max-ports 128 --max-peers 128 --spool-max-mb 1"
# shellcheck disable=SC2086
run_agent astop "$sp3" "$WORK/stop.0" "$dir/a.pcap" $SARGS
wait_for "[ \$(committed_since astop 0) -ge 3 ]" 300 ||
    echo "# fewer than 3 batches committed"
kill -TERM "$AGENT_PID"
reap_agent
stopped=$(sed -n 's/.*stopped by signal at packet \([0-9]*\);.*/\1/p' "$WORK/stop.0")
check "SIGTERM mid-file: exit 0 ($rc), stopped at packet ${stopped:-?} of 20000" \
    test "$rc" = 0 -a "${stopped:-0}" -gt 0 -a "${stopped:-20000}" -lt 20000
check "... its spool file stays, to resume" test -n "$(ls "$sp3")"
# shellcheck disable=SC2086
run_agent astop "$sp3" "$WORK/stop.1" "$dir/a.pcap" $SARGS
reap_agent
check "the next start resumes at packet $stopped and exits 0 ($rc)" \
    grep -q "resuming .*a\.pcap at packet $stopped," "$WORK/stop.1"
counted_once astop "the stopped file is counted once, exactly" \
    "... per host too"
check "a finished run leaves no spool file" empty_dir "$sp3"
# shellcheck disable=SC2086
run_agent astop "$sp3" "$WORK/stop.2" "$dir/a.pcap" $SARGS
reap_agent
check "the same file once more: exit 0 ($rc), nothing resumed" \
    test "$rc" = 0 -a -z "$(grep resuming "$WORK/stop.2")"
frames=$(sql "SELECT sum(frames) FROM interface_traffic WHERE agent = 'astop'")
check "... and counted once more ($frames frames)" test "$frames" = 40000

# 3b. SIGTERM on one file, the same name and spool over another file, then
# the first file again: the run between leaves the first's resume point.
sp5=$(spool_dir spool5) || { not_ok "spool directory"; done_testing; exit 1; }
# shellcheck disable=SC2086
run_agent aother "$sp5" "$WORK/other.0" "$dir/a.pcap" $SARGS
wait_for "[ \$(committed_since aother 0) -ge 3 ]" 300 ||
    echo "# fewer than 3 batches committed"
kill -TERM "$AGENT_PID"
reap_agent
stopped=$(sed -n 's/.*stopped by signal at packet \([0-9]*\);.*/\1/p' "$WORK/other.0")
check "SIGTERM mid-file again: stopped at packet ${stopped:-?} of 20000" \
    test "${stopped:-0}" -gt 0 -a "${stopped:-20000}" -lt 20000
# shellcheck disable=SC2086
run_agent aother "$sp5" "$WORK/other.1" "$dir/b.pcap" $SARGS
reap_agent
check "a run over another file exits 0 ($rc) and keeps the first's resume point" \
    grep -q "kept as where a run over another file or filter stopped (packet $stopped)" \
    "$WORK/other.1"
# shellcheck disable=SC2086
run_agent aother "$sp5" "$WORK/other.2" "$dir/a.pcap" $SARGS
reap_agent
check "the first file again resumes at packet $stopped ($rc)" \
    grep -q "resuming .*a\.pcap at packet $stopped," "$WORK/other.2"
iface_counted "... and each file is counted once, exactly (a)" aother \
    "bucket < 1700007000" "$dir/a/interface.csv"
iface_counted "... and each file is counted once, exactly (b)" aother \
    "bucket >= 1700007000" "$dir/b/interface.csv"
check "... and no spool file is left" empty_dir "$sp5"

# 4. A full disk under the spool.
full_disk() {
	FS=$WORK/fs
	tmpfs_mount "$FS" 4m || return 1
	FS_MOUNTED=1
	mkdir -m 0700 "$FS/spool" && chown nettally "$FS/spool" || return 1
}
unmount_fs() {
	[ -n "${FS_MOUNTED:-}" ] || return 0
	[ -n "${STORE_PID:-}" ] && kill -CONT "$STORE_PID" 2>/dev/null
	stop_agent
	tmpfs_unmount "$FS"
	FS_MOUNTED=
}
CLEANUP_HOOKS="unmount_fs $CLEANUP_HOOKS"
# full_run NAME LOG: an agent on part a with its spool on the full disk;
# the store frozen once it has 2 batches, until the spool write fails.
full_run() {
	fill_fs "$FS" 64
	# shellcheck disable=SC2086
	run_agent "$1" "$FS/spool" "$2" "$dir/a.pcap" $SARGS
	wait_for "[ \$(committed_since $1 0) -ge 2 ]" 300
	kill -STOP "$STORE_PID"
	if wait_for "grep -q 'replay of a.pcap waits' '$2'" 300; then
		ok "$1: the spool write fails on the full disk: the replay waits"
	else
		not_ok "$1: the spool write fails on the full disk: the replay waits"
		tail -n 3 "$2" | sed 's/^/# /'
	fi
	sleep 0.5
}
if [ "$(id -u)" != 0 ] || ! id nettally >/dev/null 2>&1; then
	cannot_run "the spool on a full disk" "needs root and the nettally user"
elif ! full_disk; then
	cannot_run "the spool on a full disk" "cannot mount a tmpfs"
else
	# The store back, the disk still full: the batches in the file are
	# acknowledged, the file cut back, the ones in memory written and
	# sent.  The store frozen again, the disk fills again; then a kill.
	full_run afull "$WORK/full.0"
	kill -CONT "$STORE_PID"
	wait_for "grep -q 'written again' '$WORK/full.0'" 100
	kill -STOP "$STORE_PID"
	sleep 0.5
	kill_agent
	check "afull: killed after writing its kept batches once space was freed" \
	    grep -q "written again, with the [1-9][0-9]* batch(es) kept" \
	    "$WORK/full.0"
	rm -f "$FS/fill"
	kill -CONT "$STORE_PID"
	# shellcheck disable=SC2086
	run_agent afull "$FS/spool" "$WORK/full.1" "$dir/a.pcap" $SARGS
	reap_agent
	check "afull: the next start exits 0 ($rc)" test "$rc" = 0
	check "afull: ... resuming the file" \
	    grep -q "resuming .*a\.pcap at packet [0-9]*," "$WORK/full.1"
	counted_once afull "afull: counted once, exactly" "afull: per host too"
	check "afull: the spool directory is empty afterwards" \
	    empty_dir "$FS/spool"
	# Not killed: space comes back, the batches are written, then sent.
	full_run afull2 "$WORK/full2.0"
	rm -f "$FS/fill"
	kill -CONT "$STORE_PID"
	reap_agent
	check "afull2: once there is space, the replay goes on and exits 0 ($rc)" \
	    test "$rc" = 0
	check "afull2: ... writing the batches it kept in memory first" \
	    grep -q "written again, with the [1-9][0-9]* batch(es) kept" \
	    "$WORK/full2.0"
	counted_once afull2 "afull2: counted once, exactly" \
	    "afull2: per host too"
	check "afull2: the spool directory is empty afterwards" \
	    empty_dir "$FS/spool"
	unmount_fs
fi

check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
