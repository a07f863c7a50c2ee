#!/bin/sh
# A store restarted over the socket file a killed store left behind, and
# stopped at once, stops cleanly: start_store (lib.sh) returns only once
# the new store listens, so the SIGTERM of the stop_store right after it
# is the store's own shutdown, exit 0.  Returning on the left-over file,
# start_store let that SIGTERM go to the shell forked for the store
# before its exec, which dropped it (dash, with lib.sh's trap), or kill
# the store half-started.  A sqlite3 writer holds the database for 2 s so
# that the start-up lasts that long on any machine: the SIGTERM of a
# stop_store at once always lands inside it unless start_store waits.
. "$(dirname "$0")/lib.sh"

HOLD_PID=
stop_holder() { [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_holder"

# running PID: the process has not exited (a zombie has; kill -0 says yes
# to both).
running() {
	state=$(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_within SECS: stop_store, but a store still running SECS seconds
# after its SIGTERM is a hang: its state is shown and it is killed.  The
# store's exit status in rc.
stop_within() {
	kill -TERM "$STORE_PID"
	if ! wait_for "! running $STORE_PID" $(($1 * 10)); then
		echo "# store $STORE_PID still runs $1 s after its SIGTERM:"
		grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' \
		    "/proc/$STORE_PID/status" | sed 's/^/#   /'
		tail -n 3 "$WORK/store.log" | sed 's/^/#   log: /'
		kill -KILL "$STORE_PID"
	fi
	wait "$STORE_PID"
	rc=$?
	STORE_PID=
}

start_store || { not_ok "store starts"; done_testing; exit 1; }
kill -KILL "$STORE_PID"
wait "$STORE_PID" 2>/dev/null
STORE_PID=
check "a killed store leaves its socket file behind" test -S "$SOCK"

# The writer lock keeps the next store in its start-up (the migration's
# transaction waits for it; the store's busy timeout is 5 s).
sqlite3 "$DB" "BEGIN IMMEDIATE;" ".shell touch '$WORK/held'" \
    ".shell sleep 2" "COMMIT;" &
HOLD_PID=$!
check "a sqlite3 writer holds the database" wait_for "[ -e '$WORK/held' ]" 50

t0=$(date +%s%N)
check "a store starts over the left-over socket file" start_store "$DB"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "  ... start_store returns once the lock is gone (after $ms ms)" \
    test "$ms" -ge 1000
stop_within 10
check "stopped at once after that start: exit 0 (got $rc)" test "$rc" = 0
check "  ... by its own shutdown, which logs the signal" \
    grep -q 'signal 15: shutting down' "$WORK/store.log"
check "  ... and removes its socket" test ! -e "$SOCK"
wait "$HOLD_PID"
rc=$?
HOLD_PID=
check "the writer committed and let go (exit $rc)" test "$rc" = 0
done_testing
