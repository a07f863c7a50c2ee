#!/bin/sh
# test_report_output.sh - nettally chart -o never destroys what it was
# pointed at, and every output error is reported against the output.
#
# A chart that cannot be drawn (a bad --step) must leave an existing file,
# a symbolic link and its target, and a FIFO exactly as they were.  A
# regular file is replaced whole, with the mode a new file gets under the
# umask, and no temporary file is left beside it.  Write errors are made
# with RLIMIT_FSIZE (SIGXFSZ ignored, so write(2) fails with EFBIG) on a
# file under $WORK: no device node is ever opened.
. "$(dirname "$0")/lib.sh"
cd "${NT_TOP:-.}" || exit 1
NT=$NT_BIN/nettally

. tests/system/mkdb.sh
mkdb_build "$WORK"
db=$WORK/fixture2.db
mkdb_fixture "$db" tests/system/report_fixture2.sql
WIN="--db $db --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z"
STEPERR='nettally: chart: --step 90s is not a multiple of the 60s resolution of the data; give a multiple such as --step 120s'

# chart ARGS...: runs nettally chart over $WIN; exit status in rc,
# stdout and stderr in $WORK/out and $WORK/err.
chart() {
	# shellcheck disable=SC2086
	"$NT" chart $WIN "$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
}
# one_line TEXT: $WORK/err is exactly that line.
one_line() {
	printf '%s\n' "$1" | cmp -s - "$WORK/err" && return 0
	echo "# want: $1"; echo "# got:  $(cat "$WORK/err")"
	return 1
}
# no_temp: no temporary chart file is left in $WORK.
no_temp() {
	set -- "$WORK"/.nettally-chart.*
	[ ! -e "$1" ] || { echo "# left behind: $*"; return 1; }
}

# --- a chart that cannot be drawn touches nothing ----------------------------
echo keep > "$WORK/good.svg"
chart -o "$WORK/good.svg" --step 90s
check "bad --step: exit 2, one line" test $rc -eq 2
check "bad --step: the message is the step's" one_line "$STEPERR"
check "bad --step: an existing -o file is kept as it was" \
    test "$(cat "$WORK/good.svg" 2>/dev/null)" = keep

echo target > "$WORK/target"
ln -s target "$WORK/link"
chart -o "$WORK/link" --step 90s
check "bad --step: a symlink -o is not removed" test -L "$WORK/link"
check "bad --step: the symlink's target is not truncated" \
    test "$(cat "$WORK/target")" = target

mkfifo "$WORK/fifo"
# A reader, so that a program that opens the FIFO does not block; it is
# let go by opening the FIFO here when nettally did not.
timeout 20 cat "$WORK/fifo" > "$WORK/fifo.out" &
reader=$!
chart -o "$WORK/fifo" --step 90s
check "bad --step: a FIFO -o is not removed" test -p "$WORK/fifo"
[ -p "$WORK/fifo" ] && : > "$WORK/fifo"
wait $reader
rm -f "$WORK/fifo"
check "no temporary file is left after a refused chart" no_temp

# --- a chart replaces a file, writes through anything else --------------------
chart -o "$WORK/good.svg"
check "chart over an existing file: exit 0, silent" \
    test $rc -eq 0 -a ! -s "$WORK/err" -a ! -s "$WORK/out"
check "chart over an existing file: the SVG replaced it" \
    grep -q '^<svg ' "$WORK/good.svg"
# shellcheck disable=SC2086
(umask 027; "$NT" chart $WIN -o "$WORK/new.svg" 2> "$WORK/err")
check "a new chart file has the mode the umask gives (027: 640)" \
    test "$(stat -c %a "$WORK/new.svg" 2>/dev/null)" = 640
chart -o "$WORK/link"
check "chart through a symlink: exit 0" test $rc -eq 0
check "chart through a symlink: the link is still a link" test -L "$WORK/link"
check "chart through a symlink: the SVG is in its target" \
    grep -q '^<svg ' "$WORK/target"
mkfifo "$WORK/fifo"
timeout 20 cat "$WORK/fifo" > "$WORK/fifo.out" &
reader=$!
chart -o "$WORK/fifo"
wait $reader
check "chart into a FIFO: exit 0, the reader got the SVG" \
    test $rc -eq 0 -a -p "$WORK/fifo" -a -s "$WORK/fifo.out"
check "chart into a FIFO: the reader got the whole SVG" \
    grep -q '^</svg>$' "$WORK/fifo.out"
check "no temporary file is left after a written chart" no_temp

# --- write errors name the output, and keep the old file -------------------
# The chart is some 10 KiB: 4 blocks of RLIMIT_FSIZE are too few.  The
# database is a rollback-journal copy: a WAL one needs its 32 KiB -shm.
cp "$db" "$WORK/delete.db" &&
    sqlite3 "$WORK/delete.db" 'PRAGMA journal_mode=DELETE' > /dev/null ||
    { echo "Bail out! cannot make a rollback-journal copy"; exit 1; }
WIN="--db $WORK/delete.db --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z"
echo keep > "$WORK/good.svg"
# shellcheck disable=SC2086
(trap '' XFSZ; ulimit -f 4; "$NT" chart $WIN -o "$WORK/good.svg" \
    > "$WORK/out" 2> "$WORK/err")
rc=$?
check "a write error: exit 1" test $rc -eq 1
check "a write error names the -o file and the reason" \
    one_line "nettally: chart: $WORK/good.svg: cannot write: File too large"
check "a write error keeps the old file as it was" \
    test "$(cat "$WORK/good.svg" 2>/dev/null)" = keep
check "no temporary file is left after a write error" no_temp
echo target > "$WORK/target"
# shellcheck disable=SC2086
(trap '' XFSZ; ulimit -f 4; "$NT" chart $WIN -o "$WORK/link" \
    > "$WORK/out" 2> "$WORK/err")
rc=$?
check "a write error through a symlink: exit 1, the link is kept" \
    test $rc -eq 1 -a -L "$WORK/link"
check "a write error through a symlink names the -o path" \
    one_line "nettally: chart: $WORK/link: cannot write: File too large"

# --- --help and --version on a stdout that fails ----------------------------
# stdout appends to a file already past RLIMIT_FSIZE, so its every write
# fails; stderr is a new file, with room for one line.
head -c 4096 /dev/zero > "$WORK/full.out"
for a in --help "top --help" --version; do
	# shellcheck disable=SC2086
	(trap '' XFSZ; ulimit -f 2; "$NT" $a >> "$WORK/full.out" \
	    2> "$WORK/err")
	rc=$?
	check "nettally $a on a failing stdout: exit 1" test $rc -eq 1
	check "nettally $a on a failing stdout: says so on stderr" \
	    one_line "nettally: stdout: File too large"
done

done_testing
