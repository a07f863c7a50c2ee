#!/bin/sh
# How the agent stops, as nettally-agent(8) says under SIGNALS and EXIT
# STATUS: a first signal waits for the store's last ACK and only a
# second gives up, also after a replay reached the end of its file.
. "$(dirname "$0")/lib.sh"

# A store left stopped (SIGSTOP) would never take cleanup's SIGTERM.
cont_store() { [ -n "$STORE_PID" ] && kill -CONT "$STORE_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS cont_store"

start_store || { not_ok "store starts"; done_testing; exit 1; }
"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/gen" --packets 2000 --seed 31 \
    >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
frames=$(tail -n 1 "$WORK/gen/interface.csv" | cut -d, -f1)

# --- one signal after the end of a file still waits for the store ---
# held_at_end NAME: a replay of in.pcap through a FIFO whose last batch
# the store holds: connected (HELLO answered), the store is stopped,
# then the writer closes the FIFO, so the agent reaches the end of its
# file with that batch unacknowledged, and gets one SIGTERM.  No flush
# before the end (--flush of an hour): the batch holds every frame.
# Leaves the agent running as AGENT_PID, its stderr in $WORK/NAME.err.
held_at_end() {
	mkfifo "$WORK/$1.fifo"
	(cat "$WORK/in.pcap"; exec sleep 120) >"$WORK/$1.fifo" &
	FEED_PID=$!
	"$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/$1.fifo" --name "$1" \
	    --flush 3600000 2>"$WORK/$1.err" &
	AGENT_PID=$!
	wait_for "grep -q 'counting as' '$WORK/$1.err'" 100 ||
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

# A second signal gives up: the batch is lost, said, exit 1.
held_at_end wait2
kill -TERM "$AGENT_PID" 2>/dev/null
reap_agent
kill -CONT "$STORE_PID"
check "wait2: a second SIGTERM gives up waiting: exit 1 ($rc)" test "$rc" = 1
check "wait2: ... saying what was lost" \
    grep -q "1 batch(es) not acknowledged by the store were lost" \
    "$WORK/wait2.err"

check "store stops cleanly on SIGTERM" stop_store
done_testing
