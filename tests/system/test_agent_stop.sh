#!/bin/sh
# How the agent stops, as nettally-agent(8) says under SIGNALS and EXIT
# STATUS: a first signal waits for the store's last ACK and only a
# second gives up, also after a replay reached the end of its file; a
# replay stopped before the end of its file says so; a stop while the
# agent waits for a missing interface is a clean one.
. "$(dirname "$0")/lib.sh"

# A store left stopped (SIGSTOP) would never take cleanup's SIGTERM.
cont_store() { [ -n "$STORE_PID" ] && kill -CONT "$STORE_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS cont_store"

start_store || { not_ok "store starts"; done_testing; exit 1; }
"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/gen" --packets 2000 --seed 31 \
    >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
frames=$(tail -n 1 "$WORK/gen/interface.csv" | cut -d, -f1)

# fifo_agent NAME FLUSH_MS: an agent replaying in.pcap as NAME through a
# FIFO whose writer (FEED_PID) then holds it open, so that the agent has
# read every frame and waits for more; the agent is AGENT_PID, its stderr
# $WORK/NAME.err.
fifo_agent() {
	mkfifo "$WORK/$1.fifo"
	(cat "$WORK/in.pcap"; exec sleep 120) >"$WORK/$1.fifo" &
	FEED_PID=$!
	# A third argument, hup-ignored: started as nohup(1) starts it.
	(if [ "${3:-}" = hup-ignored ]; then trap '' HUP; fi
	exec "$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/$1.fifo" \
	    --name "$1" --flush "$2" 2>"$WORK/$1.err") &
	AGENT_PID=$!
}

# --- one signal after the end of a file still waits for the store ---
# held_at_end NAME: a replay of in.pcap through a FIFO whose last batch
# the store holds: connected (HELLO answered), the store is stopped,
# then the writer closes the FIFO, so the agent reaches the end of its
# file with that batch unacknowledged, and gets one SIGTERM.  No flush
# before the end (--flush of an hour): the batch holds every frame.
# Leaves the agent running as AGENT_PID, its stderr in $WORK/NAME.err.
held_at_end() {
	fifo_agent "$1" 3600000
	wait_for "grep -qs 'counting as' '$WORK/$1.err'" 100 ||
	    not_ok "$1: the agent starts counting"
	kill -STOP "$STORE_PID"
	kill -TERM "$FEED_PID"
	wait "$FEED_PID" 2>/dev/null
	FEED_PID=
	# The end of the FIFO reached, the agent waits for the ACK.
	sleep 1
	kill -TERM "$AGENT_PID"
	sleep 1
	check "$1: one SIGTERM while the last ACK is due: the agent waits" \
	    kill -0 "$AGENT_PID" 2>/dev/null
	check "$1: ... and gives up no batch" \
	    sh -c "! grep -q 'were lost' '$WORK/$1.err'"
	# Said once the wait has lasted a second, not at every stop.
	wait_for "grep -qs 'waiting for the store to acknowledge' '$WORK/$1.err'" 50
	check "$1: ... saying it waits, and how to give up" \
	    grep -q "waiting for the store to acknowledge 1 batch(es); a second signal gives up" \
	    "$WORK/$1.err"
}

# The store answers: the batch is delivered, exit 0.
held_at_end wait1
kill -CONT "$STORE_PID"
reap_agent
check "wait1: once the store answers, the agent exits 0 ($rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/wait1.err"
check "wait1: ... saying every frame was delivered" \
    grep -q "wait1.fifo: $frames frames counted and delivered" "$WORK/wait1.err"
got=$(sql "SELECT sum(frames) FROM interface_traffic WHERE agent = 'wait1'")
check "wait1: ... and the store has all $frames frames ($got)" \
    test "$got" = "$frames"
check "wait1: ... read to its end, so not said to be stopped" \
    sh -c "! grep -q 'stopped by signal' '$WORK/wait1.err'"

# shipped_all NAME WHAT: the agent fifo_agent NAME started, just sent a
# stop signal (WHAT), exits 0 with every frame of in.pcap in the store.
shipped_all() {
	reap_agent
	kill -TERM "$FEED_PID" 2>/dev/null
	wait "$FEED_PID" 2>/dev/null
	FEED_PID=
	check "$2: the agent stops cleanly, exit 0 ($rc)" test "$rc" = 0
	got=$(sql "SELECT coalesce(sum(frames), 0) FROM interface_traffic
	    WHERE agent = '$1'")
	check "$2: ... and ships what it counted: $frames frames ($got)" \
	    test "$got" = "$frames"
}

# SIGHUP (a closed terminal) stops the agent as SIGTERM does: what it
# counted is shipped, exit 0.  Before, the hangup killed it (status 129)
# with the counts since the last flush (here every frame) unsent.
fifo_agent hup 3600000
wait_for "grep -qs 'counting as' '$WORK/hup.err'" 100
# Every frame of the file read, none flushed yet.
sleep 1
kill -HUP "$AGENT_PID"
shipped_all hup "SIGHUP"

# Started with SIGHUP ignored (nohup: to outlive its terminal), the agent
# keeps ignoring it, and a SIGTERM still stops it with everything shipped.
fifo_agent nohup 3600000 hup-ignored
wait_for "grep -qs 'counting as' '$WORK/nohup.err'" 100
kill -HUP "$AGENT_PID"
sleep 0.5
check "nohup: an ignored SIGHUP stays ignored: the agent runs on" \
    kill -0 "$AGENT_PID"
kill -TERM "$AGENT_PID"
shipped_all nohup "nohup: ... then SIGTERM"

# A second signal gives up: the batch is lost, said, exit 1.
held_at_end wait2
kill -TERM "$AGENT_PID" 2>/dev/null
reap_agent
kill -CONT "$STORE_PID"
check "wait2: a second SIGTERM gives up waiting: exit 1 ($rc)" test "$rc" = 1
check "wait2: ... saying what was lost" \
    grep -q "1 batch(es) not acknowledged by the store were lost" \
    "$WORK/wait2.err"

# --- a replay stopped before the end of its file says so ---
# A FIFO whose writer holds it open after in.pcap: once every frame is
# delivered, the agent waits for more, and SIGTERM stops it there.
fifo_agent part 200
wait_for "[ \"\$(sql \"SELECT coalesce(sum(frames), 0) FROM interface_traffic
    WHERE agent = 'part'\")\" = $frames ]" 200 ||
    not_ok "part: the frames so far are delivered"
kill -TERM "$AGENT_PID"
reap_agent
kill -TERM "$FEED_PID"
wait "$FEED_PID" 2>/dev/null
FEED_PID=
check "part: SIGTERM mid-file: exit 0, as for any signal ($rc)" test "$rc" = 0
check "part: ... saying where it stopped and that the rest was not counted" \
    grep -q "part.fifo: stopped by signal at packet $frames; the rest of the file was not counted" \
    "$WORK/part.err"
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/part.err"

# --- a stop while waiting for a missing interface is a clean stop ---
# No Linux interface name holds a '/': this one cannot appear.  The
# agent waits for it (no --exit-on-error); `systemctl stop` then must not
# find the unit failed.
if [ "$(id -u)" = 0 ]; then
	"$NT_BIN/nettally-agent" -s "$SOCK" -i nt/nosuch0 -n 10.0.0.0/8 \
	    2>"$WORK/noif.err" &
	AGENT_PID=$!
	wait_for "grep -qs 'nt/nosuch0: no such interface.*waiting for it' \
	    '$WORK/noif.err'" 100 || not_ok "noif: the agent waits"
	kill -TERM "$AGENT_PID"
	reap_agent
	check "noif: SIGTERM while waiting for the interface: exit 0 ($rc)" \
	    test "$rc" = 0
	check "noif: ... saying it stopped while waiting for it" \
	    grep -q "stopped while waiting for nt/nosuch0" "$WORK/noif.err"
	check "noif: ... and nothing else: the wait, then the stop" \
	    test "$(wc -l <"$WORK/noif.err")" = 2
	[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/noif.err"
else
	cannot_run "noif: SIGTERM while waiting for an interface" \
	    "needs root to open a capture"
fi

# --- a stop while a FIFO's open waits for its writer is a clean stop ---
mkfifo "$WORK/nowriter.fifo"
"$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/nowriter.fifo" \
    2>"$WORK/fifo.err" &
AGENT_PID=$!
# In open(2), waiting for a writer, before the signal comes.
wait_for "grep -qs wait_for_partner /proc/$AGENT_PID/wchan" 100 ||
    not_ok "fifo: the agent waits in open"
kill -TERM "$AGENT_PID"
reap_agent
check "fifo: SIGTERM while the FIFO waits for a writer: exit 0 ($rc)" \
    test "$rc" = 0
check "fifo: ... saying so, in one line" sh -c \
    "grep -q 'stopped while waiting to open .*nowriter.fifo' '$WORK/fifo.err' &&
    test \$(wc -l <'$WORK/fifo.err') = 1"
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/fifo.err"

check "store stops cleanly on SIGTERM" stop_store
done_testing
