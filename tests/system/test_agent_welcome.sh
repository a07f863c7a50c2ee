#!/bin/sh
# A stop signal while the agent waits for the store's WELCOME is acted on
# at once (nettally-agent(8), SIGNALS).
#
# The agent waits up to 5 s for the store to answer its HELLO.  A
# SIGTERM in that wait was acted on only after it: at start the agent
# then failed (exit 1, "did not answer HELLO within 5 s") instead of
# stopping as asked, and a stop with a spool, or a second signal, waited
# the 5 s out.  Here a listener accepts the agent's connection and never
# answers (mute), and each stop must end the agent within a second, with
# the status the manual gives for it:
# - at start, without a spool: exit 0, saying it stopped while waiting;
# - with a spool, the store away: exit 0, the counts kept in the spool
#   (a store started afterwards gets them from the next run);
# - without a spool, the store gone after the start: the first signal
#   waits for it as ever, the second gives up: exit 1, the batch lost.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null ||
    cannot_run_all "a listener that never answers" "no python3"

MUTE_PID=
stop_mute() { [ -n "$MUTE_PID" ] && kill "$MUTE_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_mute"

# The mute listener on $MSOCK (open to any user, as the store's with
# --socket-mode 0666) accepts, holds every connection and never writes;
# a line in $MSOCK.acc for each accept.  One for the whole script (a
# python3 start is slow on a loaded machine).
MSOCK=$WORK/mute.sock
: >"$MSOCK.acc"
python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(8)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[1] + ".acc", "a") as f:
        f.write("accepted\n")' "$MSOCK" &
MUTE_PID=$!
# accepted N: the mute listener has accepted N connections in all.
accepted() {
	[ "$(wc -l <"$MSOCK.acc")" -ge "$1" ]
}
# stop_ms SIG: sends SIG to the agent and reaps it; the time that took
# in ms, its exit status in rc.
stop_ms() {
	t0=$(date +%s%N)
	kill -"$1" "$AGENT_PID"
	reap_agent
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# stopped_checks CASE LOG WHAT TEXT: after stop_ms TERM, the agent of
# CASE exited 0 within a second, its LOG holding TEXT (WHAT says it).
stopped_checks() {
	check "$1: SIGTERM while waiting for WELCOME: exit 0 ($rc)" \
	    test "$rc" = 0
	check "$1: ... within a second ($ms ms)" test "$ms" -lt 1000
	check "$1: ... saying $3" grep -q "$4" "$2"
	[ "$rc" = 0 ] || sed 's/^/# /' "$2"
}

"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/gen" --packets 2000 --seed 64 \
    >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
frames=$(tail -n 1 "$WORK/gen/interface.csv" | cut -d, -f1)

# --- at start, no spool ------------------------------------------------
wait_for "[ -S '$MSOCK' ]" 100 || not_ok "the mute listener is there"
"$NT_BIN/nettally-agent" -s "$MSOCK" -r "$WORK/in.pcap" --name start \
    2>"$WORK/start.err" &
AGENT_PID=$!
wait_for "accepted 1" 50 || not_ok "start: the agent connects"
sleep 0.2
stop_ms TERM
stopped_checks start "$WORK/start.err" \
    "it stopped while waiting for the store" \
    "mute.sock: stopped by a signal while waiting for the store to answer HELLO"

# --- with a spool, the sender thread's wait ----------------------------
# The agent's socket is a symbolic link: to nothing at start (the spool
# takes the batches), then to the mute listener, where the sender's
# reconnect waits for its WELCOME.
LINK=$WORK/link.sock
spool=$(spool_dir spool)
mkfifo "$WORK/in.fifo"
(cat "$WORK/in.pcap"; exec sleep 120) >"$WORK/in.fifo" &
FEED_PID=$!
"$NT_BIN/nettally-agent" -s "$LINK" -r "$WORK/in.fifo" --name spooled \
    --spool "$spool" --flush 3600000 2>"$WORK/spool.err" &
AGENT_PID=$!
wait_for "grep -qs 'counting as' '$WORK/spool.err'" 100 ||
    not_ok "spool: the agent starts counting"
ln -s "$MSOCK" "$LINK"
wait_for "accepted 2" 50 || not_ok "spool: the agent connects"
sleep 0.2
stop_ms TERM
kill -TERM "$FEED_PID"
wait "$FEED_PID" 2>/dev/null
FEED_PID=
stopped_checks spool "$WORK/spool.err" "every batch is in the spool" \
    "spool: the store is away; every batch is in $spool"
# The next run delivers the spooled counts to a store that answers.
start_store || { not_ok "store starts"; done_testing; exit 1; }
agent -r "$WORK/in.pcap" --name spooled --spool "$spool" \
    2>"$WORK/next.err"
rc=$?
check "spool: the next run exits 0 ($rc)" test "$rc" = 0
got=$(sql "SELECT coalesce(sum(frames), 0) FROM interface_traffic
    WHERE agent = 'spooled'")
check "spool: ... and delivers the stopped run's $frames frames with its own ($got)" \
    test "$got" = "$((2 * frames))"
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/next.err"

# --- no spool, a second signal gives up the wait -----------------------
# Connected to the store at start (the link to its socket), every frame
# read and none flushed; the store goes and the link then leads to the
# mute listener.
mkfifo "$WORK/in2.fifo"
(cat "$WORK/in.pcap"; exec sleep 120) >"$WORK/in2.fifo" &
FEED_PID=$!
ln -sf "$SOCK" "$LINK"
"$NT_BIN/nettally-agent" -s "$LINK" -r "$WORK/in2.fifo" --name twice \
    --flush 3600000 2>"$WORK/twice.err" &
AGENT_PID=$!
wait_for "grep -qs 'counting as' '$WORK/twice.err'" 100 ||
    not_ok "twice: the agent starts counting"
stop_store
ln -sf "$MSOCK" "$LINK"
wait_for "accepted 3" 100 || not_ok "twice: the agent reconnects"
kill -TERM "$AGENT_PID"
sleep 0.5
check "twice: the first SIGTERM waits for the store, as ever" \
    kill -0 "$AGENT_PID"
stop_ms TERM
kill -TERM "$FEED_PID"
wait "$FEED_PID" 2>/dev/null
FEED_PID=
check "twice: the second SIGTERM gives up: exit 1 ($rc)" test "$rc" = 1
check "twice: ... within a second ($ms ms)" test "$ms" -lt 1000
check "twice: ... saying what was lost" \
    grep -q "1 batch(es) not acknowledged by the store were lost" \
    "$WORK/twice.err"
[ "$rc" = 1 ] || sed 's/^/# /' "$WORK/twice.err"
done_testing
