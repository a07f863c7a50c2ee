#!/bin/sh
# test_report_progress.sh - nettally says it is still reading when a
# report runs long, on a terminal's stderr only (nettally(1), PROGRESS).
#
# What makes a read long here is a lock, not a large database, so the
# wait is the same on any machine: a sqlite3 writer holds the fixture
# (in rollback-journal mode, where an exclusive lock keeps readers out)
# for 3.5 s, and the reports started meanwhile wait for it (the busy
# timeout is 5 s) before they read.  Their reads have then run over 2 s:
# - stderr a terminal (script(1)'s pty), stdout a file: the line is on
#   the terminal, wiped before the end, and stdout is exactly the report
#   a quick run prints;
# - stderr a file: nothing on it, stdout the same;
# - an error said after the reads (a chart's output file that cannot be
#   made) starts on a line the progress line was wiped from.
# A quick run on a terminal shows no line at all.
. "$(dirname "$0")/lib.sh"
cd "${NT_TOP:-.}" || exit 1
NT=$NT_BIN/nettally

command -v script >/dev/null ||
    cannot_run_all "reports on a terminal" "no script(1) (util-linux)"

. tests/system/mkdb.sh
mkdb_build "$WORK"
db=$WORK/fixture.db
mkdb_fixture "$db" tests/system/report_fixture.sql
# 10,000 more rows in the window: the reads after the wait are long
# enough (SQLite instructions) for the progress handler to run.
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1
    FROM n WHERE i < 9999) INSERT INTO host_stat SELECT
    1795600800 + 60 * (i % 60), 60, 1, 1 + (i / 60) % 7, 100 + i / 420, 0,
    1, 100, 114, 1 FROM n; PRAGMA journal_mode = DELETE;" >/dev/null ||
    { not_ok "the fixture takes 10,000 more rows"; done_testing; exit 1; }
WIN="--db $db --since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z"
ARGS="top agents $WIN"

HOLD_PID=
stop_holder() { [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_holder"

# on_tty NAME CMD: CMD under script(1), its stderr (and anything else it
# writes to the terminal) in $WORK/NAME.tty; its status in $WORK/NAME.rc.
on_tty() {
	script -qec "$2" "$WORK/$1.tty" >/dev/null 2>&1
	echo $? >"$WORK/$1.rc"
}

# shellcheck disable=SC2086
"$NT" $ARGS >"$WORK/want" 2>"$WORK/want.err"
check "a quick run prints the report, nothing on stderr" \
    sh -c "test -s '$WORK/want' && test ! -s '$WORK/want.err'"
on_tty quick "$NT $ARGS >'$WORK/quick.out'"
check "  ... on a terminal too: no progress line" \
    sh -c "! grep -q 'still reading' '$WORK/quick.tty'"

rm -f "$WORK/held"
sqlite3 "$db" "BEGIN EXCLUSIVE;" ".shell touch '$WORK/held'; sleep 3.5" \
    "COMMIT;" &
HOLD_PID=$!
wait_for "[ -e '$WORK/held' ]" 50 || not_ok "a writer holds the database"
on_tty tty "$NT $ARGS >'$WORK/tty.out'" &
tty_pid=$!
on_tty err "$NT chart $WIN -o '$WORK/nodir/x.svg'" &
err_pid=$!
# shellcheck disable=SC2086
"$NT" $ARGS >"$WORK/file.out" 2>"$WORK/file.err"
file_rc=$?
wait "$tty_pid" "$err_pid"
wait "$HOLD_PID"
HOLD_PID=

check "held reads, stderr a terminal: exit 0 ($(cat "$WORK/tty.rc"))" \
    test "$(cat "$WORK/tty.rc")" = 0
check "  ... the terminal says it is still reading" \
    grep -q 'nettally: still reading the database ([0-9]* s)' \
    "$WORK/tty.tty"
# The line is wiped: a carriage return, a space over each of its
# characters, a carriage return.
line=$(grep -a -o 'nettally: still reading the database ([0-9]* s)' \
    "$WORK/tty.tty" | tail -n 1)
blank=$(awk -v n="${#line}" 'BEGIN { printf "\r"
    for (i = 0; i < n; i++) printf " "; printf "\r" }')
check "  ... and wipes it before the end" \
    grep -a -q -F "$line$blank" "$WORK/tty.tty"
check "  ... stdout is the report alone" cmp -s "$WORK/want" "$WORK/tty.out"
check "held reads, stderr a file: exit 0 ($file_rc)" test "$file_rc" = 0
check "  ... nothing on stderr" test ! -s "$WORK/file.err"
check "  ... stdout is the report alone" cmp -s "$WORK/want" "$WORK/file.out"
check "held reads, then an error (chart -o into no directory): exit 2 ($(cat "$WORK/err.rc"))" \
    test "$(cat "$WORK/err.rc")" = 2
check "  ... said on a line wiped of the progress line" \
    grep -a -q -F "$blank"'nettally: chart: '"$WORK"'/nodir/x.svg: No such file' \
    "$WORK/err.tty"
done_testing
