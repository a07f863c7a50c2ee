#!/bin/sh
# The agent's spool on a full disk.  The spool directory lives on a small
# tmpfs this test mounts, a file fills it to within 1.25 MB, and the
# agent (--spool, --max-queue-mb 1, its capture fed through a pipe) runs
# with the store up, then frozen (SIGSTOP) so batches pile up in the
# spool until a write fails with ENOSPC.  The agent must log that once
# with its cause, keep the batches in memory (holding its input at the
# cap), and not crash.  Then the fill is removed and the store thawed:
# once every batch is acknowledged the file is cut back and the agent
# spools again, which the file shows while the store is frozen a second
# time for the rest of the capture.  At the end every view equals the
# generator's count exactly and the spool directory is empty.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	cannot_run_all "spool on a full disk" "mounting a tmpfs needs root"
fi
if ! id nettally >/dev/null 2>&1; then
	cannot_run_all "spool on a full disk" "no nettally user for the agent to drop to"
fi
FS=$WORK/fs
if ! tmpfs_mount "$FS" 4m; then
	cannot_run_all "spool on a full disk" "cannot mount a tmpfs"
fi
AGENT_PID=
FEED_PID=
stop_all() {
	[ -n "${STORE_PID:-}" ] && kill -CONT "$STORE_PID" 2>/dev/null
	[ -n "${AGENT_PID:-}" ] && kill -KILL "$AGENT_PID" 2>/dev/null &&
	    wait "$AGENT_PID" 2>/dev/null
	[ -n "${FEED_PID:-}" ] && kill "$FEED_PID" 2>/dev/null
	AGENT_PID=
	tmpfs_unmount "$FS"
}
CLEANUP_HOOKS="stop_all $CLEANUP_HOOKS"

dir=$WORK/gen
mkdir -p "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --packets 40000 --mix --seed 51 \
    --local-hosts 100 --remote-hosts 1000 --flows 4000 >/dev/null ||
    { not_ok "generator ran"; done_testing; exit 1; }
nets=$(local_nets "$dir")

SP=$FS/spool
mkdir -m 0700 "$SP" && chown nettally "$SP"
fill_fs "$FS" 1280
check "the filesystem has 1.25 MB left" \
    test "$(df -k --output=avail "$FS" | tail -n 1)" -le 1280

start_store || { not_ok "store starts"; done_testing; exit 1; }
mkfifo "$WORK/feed"
# Read-write, so neither end waits for the other to open; the agent sees
# the end of its capture when fd 3 closes.
exec 3<>"$WORK/feed"
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$SOCK" $nets --name disk --flush 10 \
    --max-hosts 256 --max-ports 256 --max-peers 256 --max-queue-mb 1 \
    --spool "$SP" -r - <"$WORK/feed" 2>"$WORK/agent.log" 3>&- &
AGENT_PID=$!

committed() { sql "SELECT count(*) FROM batch"; }
fsize() { stat -c %s "$SP"/disk.*.spool 2>/dev/null || echo 0; }
size=$(stat -c %s "$dir/in.pcap")
b1=$((size / 10))
b2=$((size * 9 / 10))
# feed FROM COUNT: bytes FROM.. of the capture into the pipe, in the
# background: an agent holding at its cap stops reading.
feed() {
	tail -c +$(($1 + 1)) "$dir/in.pcap" | head -c "$2" >&3 &
	FEED_PID=$!
}
# feed_done: waits for the feeder (30 s at most: an agent that stopped
# reading fails the checks after it rather than hanging the test).
feed_done() {
	wait_for "! kill -0 $FEED_PID 2>/dev/null" 300 ||
	    echo "# the agent stopped reading its input"
	kill "$FEED_PID" 2>/dev/null
	wait "$FEED_PID" 2>/dev/null
	FEED_PID=
}
# 1. The store up: a tenth of the capture goes through.
feed 0 $b1
check "the store up: batches are committed" \
    wait_for "[ \$(committed) -ge 2 ]" 300
feed_done
# 2. The store frozen: the spool fills the disk.
kill -STOP "$STORE_PID"
feed $b1 $((b2 - b1))
if wait_for "grep -q 'spool: .*No space left on device' '$WORK/agent.log'" 300
then
	ok "the spool's write fails on the full disk"
else
	not_ok "the spool's write fails on the full disk"
	tail -n 5 "$WORK/agent.log" | sed 's/^/# /'
fi
# Let it go on (more flushes, all of them in memory): still one line.
sleep 1
check "the agent is still running" kill -0 "$AGENT_PID"
check "it holds its input at --max-queue-mb, unread" kill -0 "$FEED_PID"
check "the failure is logged once, with its cause" \
    test "$(grep -c 'spool: .*No space left on device; batches stay in memory only' \
    "$WORK/agent.log")" -eq 1
check "the spool file did not grow past the disk" \
    test "$(fsize)" -le $((1280 * 1024))

# 3. Space back, the store thawed: everything acknowledged, the file cut
# back to its header (and an input mark).
rm -f "$FS/fill"
kill -CONT "$STORE_PID"
feed_done
if wait_for "[ \$(fsize) -lt 4096 ]" 300; then
	ok "once every batch is acknowledged the file is cut back ($(fsize) bytes)"
else
	not_ok "once every batch is acknowledged the file is cut back ($(fsize) bytes)"
fi
# 4. The store frozen again for the rest: the file grows, spooling again.
kill -STOP "$STORE_PID"
feed $b2 $((size - b2))
if wait_for "[ \$(fsize) -gt 65536 ]" 300; then
	ok "the agent spools again ($(fsize) bytes)"
else
	not_ok "the agent spools again ($(fsize) bytes)"
	tail -n 5 "$WORK/agent.log" | sed 's/^/# /'
fi
kill -CONT "$STORE_PID"
feed_done
exec 3>&-
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL "$AGENT_PID" 2>/dev/null
reap_agent
check "the agent delivers everything and exits 0 ($rc)" test "$rc" -eq 0
check "still one spool failure in its log" \
    test "$(grep -c 'spool: .*batches stay in memory only' \
    "$WORK/agent.log")" -eq 1

views_equal disk "$dir"
bad=$(sql "SELECT count(*) FROM (SELECT epoch FROM batch GROUP BY epoch
    HAVING count(*) != max(seq) OR count(DISTINCT seq) != count(*))")
check "each batch recorded once, none missing" test "$bad" = 0
check "the spool directory is empty afterwards" \
    test -z "$(ls -A "$SP")"
check "store stops cleanly on SIGTERM" stop_store
done_testing
