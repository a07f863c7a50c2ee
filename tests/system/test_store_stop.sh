#!/bin/sh
# How the store stops when told to in its start-up.
#
# A store restarted over the socket file a killed store left behind, and
# stopped at once, stops cleanly: start_store (lib.sh) returns only once
# the new store listens, so the SIGTERM of the stop_store right after it
# is the store's own shutdown, exit 0.  Returning on the left-over file,
# start_store let that SIGTERM go to the shell forked for the store
# before its exec, which dropped it (dash, with lib.sh's trap), or kill
# the store half-started.
#
# A stop signal in the start-up ends the store there, even one its
# launcher left ignored or blocked.
#
# A sqlite3 writer holds the database for 2 s, which keeps the store in
# its start-up that long on any machine: a signal sent at once always
# lands inside it.
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

# signal_within SIG SECS: sends SIG to the store and reaps it, but a store
# still running SECS seconds later is a hang: its state is shown and it
# is killed.  The store's exit status in rc.
signal_within() {
	kill -"$1" "$STORE_PID"
	if ! wait_for "! running $STORE_PID" $(($2 * 10)); then
		echo "# store $STORE_PID still runs $2 s after its SIG$1:"
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

# hold_db: a sqlite3 writer holds $DB for 2 s, which keeps a store in
# its start-up that long (the migration's transaction waits for it; the
# store's busy timeout is 5 s).  Returns once the lock is taken.
hold_db() {
	rm -f "$WORK/held"
	sqlite3 "$DB" "BEGIN IMMEDIATE;" ".shell touch '$WORK/held'" \
	    ".shell sleep 2" "COMMIT;" &
	HOLD_PID=$!
	wait_for "[ -e '$WORK/held' ]" 50
}
# release_db: waits for the writer; its exit status in rc.
release_db() {
	wait "$HOLD_PID"
	rc=$?
	HOLD_PID=
}
# at_db: the store has the database open, in its start-up behind the lock.
at_db() {
	wait_for "ls -l /proc/$STORE_PID/fd 2>/dev/null | grep -q '$DB'" 50
}

check "a sqlite3 writer holds the database" hold_db

t0=$(date +%s%N)
check "a store starts over the left-over socket file" start_store "$DB"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "  ... start_store returns once the lock is gone (after $ms ms)" \
    test "$ms" -ge 1000
signal_within TERM 10
check "stopped at once after that start: exit 0 (got $rc)" test "$rc" = 0
check "  ... by its own shutdown, which logs the signal" \
    grep -q 'signal 15: shutting down' "$WORK/store.log"
check "  ... and removes its socket" test ! -e "$SOCK"
release_db
check "the writer committed and let go (exit $rc)" test "$rc" = 0

# --- a stop signal in the start-up, whatever the launcher left ----------
# A signal ignored or blocked when the store is started stays so across
# exec, and libuv takes SIGTERM and SIGINT over only once the database is
# open: sent in between, the signal was dropped (ignored) or pending for
# ever (blocked), and the store ran on.  The store sets both back to
# their default first: the signal ends it there, before it listens.

# started_deaf HOW: the store on $DB as HOW leaves it: `bg', this
# script's asynchronous command (SIGINT ignored, as POSIX sh does without
# job control), or `blocked', exec'd by a launcher blocking SIGTERM.
started_deaf() {
	: >"$WORK/store.log"
	if [ "$1" = bg ]; then
		"$NT_BIN/nettally-stored" -s "$SOCK" -d "$DB" --allow-root \
		    2>>"$WORK/store.log" &
	else
		python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.execv(sys.argv[1], sys.argv[1:])' "$NT_BIN/nettally-stored" \
		    -s "$SOCK" -d "$DB" --allow-root 2>>"$WORK/store.log" &
	fi
	STORE_PID=$!
}
# stopped_in_startup HOW SIG STATUS: a store started_deaf HOW, held in its
# start-up by the writer, gets SIG there and must end with STATUS.
stopped_in_startup() {
	if ! hold_db; then
		not_ok "$1: a sqlite3 writer holds the database"
		return
	fi
	started_deaf "$1"
	check "$1: the store is in its start-up, at the database" at_db
	signal_within "$2" 10
	check "  ... SIG$2 ends it there (status $rc)" test "$rc" = "$3"
	check "  ... before it listens" sh -c "! grep -q 'listening on' \
	    '$WORK/store.log' && ! test -e '$SOCK'"
	release_db
}
stopped_in_startup bg INT 130
stopped_in_startup blocked TERM 143
done_testing
