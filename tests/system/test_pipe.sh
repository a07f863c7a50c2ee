#!/bin/sh
# A capture read from a pipe (-r FIFO, or -r - with a pipe on standard
# input) that trickles: what has arrived is counted and delivered every
# flush, while the writer still holds the pipe open, not only once 4096
# packets have come or the pipe has closed.  Then the writer closes it
# (or, the third time, the agent gets SIGTERM while the pipe is quiet):
# the agent exits 0 and every view equals the generator's count.
#
# The writer is `cat FILE` followed by `exec sleep`, so its PID holds the
# pipe open after the whole file went in, and killing that PID closes it.
. "$(dirname "$0")/lib.sh"

dir=$WORK/gen
mkdir -p "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 300 --mix \
    --seed 41 --local-hosts 20 --remote-hosts 200 --flows 100 \
    --duration 120 >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
nets=$(local_nets "$dir")
start_store || { not_ok "store starts"; done_testing; exit 1; }

FEED_PID=
AGENT_PID=

# trickle NAME HOW: HOW is "path" (-r FIFO) or "stdin" (-r - <FIFO).
trickle() {
	n=$1 fifo=$WORK/$1.fifo
	mkfifo "$fifo"
	(cat "$dir/in.pcap"; exec sleep 120) >"$fifo" &
	FEED_PID=$!
	if [ "$2" = path ]; then
		# shellcheck disable=SC2086
		"$NT_BIN/nettally-agent" -s "$SOCK" -r "$fifo" $nets \
		    --name "$n" --resolution 60 --flush 200 2>"$WORK/$n.err" &
	else
		# shellcheck disable=SC2086
		"$NT_BIN/nettally-agent" -s "$SOCK" -r - $nets --name "$n" \
		    --resolution 60 --flush 200 <"$fifo" 2>"$WORK/$n.err" &
	fi
	AGENT_PID=$!
	frames=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)
	check "$n: all $frames frames are delivered while the pipe is open" \
	    wait_for "[ \"\$(sql \"SELECT coalesce(sum(frames), 0)
	    FROM interface_traffic WHERE agent = '$n'\")\" = $frames ]" 200
	check "$n: ... the writer still holding it" kill -0 "$FEED_PID"
	if [ "${3:-}" = term ]; then
		# Waiting on a pipe that says nothing: a signal still stops it.
		kill -TERM "$AGENT_PID"
		check "$n: SIGTERM while the pipe is quiet stops the agent" \
		    wait_for "! kill -0 $AGENT_PID 2>/dev/null" 100
		why="SIGTERM"
	else
		why="the pipe closed"
	fi
	kill -TERM "$FEED_PID"
	wait "$FEED_PID" 2>/dev/null
	FEED_PID=
	reap_agent
	check "$n: $why, the agent exits 0 ($rc)" test "$rc" = 0
	views_equal "$n" "$dir" "$n"
}

trickle fifo path
trickle stdin stdin
trickle term path term
check "store stops cleanly on SIGTERM" stop_store
done_testing
