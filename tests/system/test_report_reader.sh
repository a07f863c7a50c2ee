#!/bin/sh
# test_report_reader.sh - a reader in the database's group (read access to
# the 0750 directory and the 0640 files, no write access) reads with
# nettally while the store runs and after it stopped cleanly, and is told
# precisely why when it cannot: a store killed with commits in its -wal,
# or a store that starts while nettally reads the file without it.
#
# The reader is uid 65534 with the directory's group as a supplementary
# group (setpriv), as `usermod -aG nettally` makes one.
. "$(dirname "$0")/lib.sh"

NT=$NT_BIN/nettally
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	cannot_run_all "reports as a member of the database's group" \
	    "needs root and setpriv"
fi
G=$(getent group nettally | cut -d: -f3)
G=${G:-4242}
D=$WORK/lib
mkdir -m 0750 "$D" && chgrp "$G" "$D" || { not_ok "database directory"; done_testing; exit 1; }
DBF=$D/db.sqlite
# reader ARGS...: nettally as the group member, output in $WORK/r.out
# and $WORK/r.err, exit status in rc.
reader() {
	setpriv --reuid=65534 --regid=65534 --groups="$G" -- \
	    "$NT" "$@" > "$WORK/r.out" 2> "$WORK/r.err"
	rc=$?
}
# same_as_root: the reader's output is root's, in $WORK/root.out.
same_as_root() {
	[ $rc -eq 0 ] && [ ! -s "$WORK/r.err" ] &&
	    cmp -s "$WORK/root.out" "$WORK/r.out" && return 0
	echo "# exit $rc; stderr: $(cat "$WORK/r.err")"
	diff "$WORK/root.out" "$WORK/r.out" | head -5 | sed 's/^/# /'
	return 1
}
REPORT="top agents --db $DBF --since all --format csv"

start_store "$DBF" || { not_ok "store starts"; done_testing; exit 1; }
chgrp "$G" "$DBF" "$DBF-wal" "$DBF-shm"
"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/exp" --packets 3000 --seed 3 \
    > /dev/null || { not_ok "generate a capture"; done_testing; exit 1; }
agent -r "$WORK/in.pcap" --name reader-a 2> "$WORK/agent.err"
check "an agent delivers" test $? -eq 0
# shellcheck disable=SC2086
"$NT" $REPORT > "$WORK/root.out" 2>&1
check "root reads the report" grep -q '^reader-a,' "$WORK/root.out"

# shellcheck disable=SC2086
reader $REPORT
check "store running: the group member reads (the store's -shm)" same_as_root

check "the store stops cleanly" stop_store
check "  ... and leaves neither -wal nor -shm" \
    test ! -e "$DBF-wal" -a ! -e "$DBF-shm"
sum=$(cksum < "$DBF")
# shellcheck disable=SC2086
reader $REPORT
check "store stopped: the group member reads the file (immutable)" \
    same_as_root
check "  ... creating no file and changing none" test \
    ! -e "$DBF-wal" -a ! -e "$DBF-shm" -a "$(cksum < "$DBF")" = "$sum"
reader summary --db "$DBF" --format json
check "store stopped: summary reads too" test $rc -eq 0 -a ! -s "$WORK/r.err"
# A user outside the group: exit 2, and the fix, not "Permission denied"
# alone; the same for the 0640 file in a directory it may enter.
denied="nettally: $DBF: permission denied; the store's database is for its group: join it (usermod -aG nettally USER, then log in again) or run as the store's user"
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NT" $REPORT \
    > "$WORK/r.out" 2> "$WORK/r.err"
rc=$?
check "a user outside the group: exit 2 (got $rc), told to join it" \
    test $rc -eq 2 -a "$(cat "$WORK/r.err")" = "$denied"
chmod 0755 "$D"
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NT" $REPORT \
    > "$WORK/r.out" 2> "$WORK/r.err"
rc=$?
check "  ... also when only the file is closed to it (exit $rc)" \
    test $rc -eq 2 -a "$(cat "$WORK/r.err")" = "$denied"
chmod 0750 "$D"

# A store that starts while nettally reads the file without it: its
# reads are held back (strace, 0.5 s each) until the store is up, and
# what it read is not printed.
if strace -qq -o /dev/null true 2> /dev/null; then
	# shellcheck disable=SC2086
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -o "$WORK/trace" -e trace=openat,pread64 \
	    -e inject=pread64:delay_enter=500000 \
	    setpriv --reuid=65534 --regid=65534 --groups="$G" -- \
	    "$NT" $REPORT > "$WORK/r.out" 2> "$WORK/r.err" &
	RPID=$!
	# The second open of the file is the one without -shm.
	wait_for "[ \"\$(grep -c 'openat(.*lib/db.sqlite\"' '$WORK/trace' 2> /dev/null)\" -ge 2 ] 2> /dev/null" 100
	start_store "$DBF"
	wait "$RPID"
	rc=$?
	check "a store started under the read: exit 1, nothing printed" \
	    test $rc -eq 1 -a ! -s "$WORK/r.out"
	check "  ... and told to run nettally again" grep -qx \
	    "nettally: $DBF: changed while nettally read it without a running store (nettally-stored started?); run nettally again" \
	    "$WORK/r.err"
	[ $rc -eq 1 ] || sed 's/^/# /' "$WORK/r.err"
	check "  ... and the store stops cleanly" stop_store
else
	cannot_run "a store started under the read" "strace cannot trace here"
fi

# A store killed leaves its -shm and its -wal, which may hold commits
# the file has not got: SQLite reads both through the -shm it may not
# write.  Without the -shm (a copy of the files, say), the reader cannot
# use the -wal, and the file alone would lack its commits: it is told why.
start_store "$DBF"
agent -r "$WORK/in.pcap" --name reader-b 2> "$WORK/agent.err"
kill -KILL "$STORE_PID"
wait "$STORE_PID" 2> /dev/null
STORE_PID=
rm -f "$SOCK"
chgrp "$G" "$DBF-wal" "$DBF-shm"
# shellcheck disable=SC2086
"$NT" $REPORT > "$WORK/root.out" 2>&1
# shellcheck disable=SC2086
reader $REPORT
check "store killed: the group member reads file, -wal and -shm" \
    same_as_root
check "  ... reader-b's rows too" grep -q '^reader-b,' "$WORK/r.out"
mv "$DBF-shm" "$WORK/shm"
# shellcheck disable=SC2086
reader $REPORT
check "-wal with commits, no -shm: exit 2, told why and what to do" \
    test $rc -eq 2 -a ! -s "$WORK/r.out"
check "  ... in one line" grep -qx "nettally: $DBF: cannot read: .*; its -wal file holds commits not yet in the database file and the -shm file it needs is missing, which only a user who may write the directory can create: start nettally-stored (it takes them in), or run nettally as such a user" \
    "$WORK/r.err"
[ $rc -eq 2 ] || echo "# exit $rc; stderr: $(cat "$WORK/r.err")"
# Started again, the store takes the -wal in; stopped, the reader reads.
mv "$WORK/shm" "$DBF-shm"
start_store "$DBF" || { not_ok "store restarts"; done_testing; exit 1; }
check "restarted and stopped cleanly" stop_store
# shellcheck disable=SC2086
"$NT" $REPORT > "$WORK/root.out" 2>&1
# shellcheck disable=SC2086
reader $REPORT
check "  ... then the group member reads every agent" same_as_root
check "  ... both of them" grep -q '^reader-b,' "$WORK/r.out"
# A writer changes the file while the immutable read looks --agent up
# (a store's checkpoint, here a page of the agent index rewritten): the
# reader is told to run again, not that the file is damaged.
if strace -qq -o /dev/null true 2> /dev/null; then
	root=$(sqlite3 "$DBF" "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'agent' AND type = 'index'" | head -1)
	psz=$(sqlite3 "$DBF" "PRAGMA page_size")
	cp "$DBF" "$WORK/db.keep"
	rm -f "$WORK/trace"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -o "$WORK/trace" -e trace=openat,pread64 \
	    -e inject=pread64:delay_enter=300000 \
	    setpriv --reuid=65534 --regid=65534 --groups="$G" -- \
	    "$NT" top hosts --agent reader-a --db "$DBF" --since all \
	    > "$WORK/r.out" 2> "$WORK/r.err" &
	RPID=$!
	wait_for "[ \"\$(grep -c 'openat(.*lib/db.sqlite\"' '$WORK/trace' 2> /dev/null)\" -ge 2 ] 2> /dev/null" 100
	: > "$DBF-shm"
	dd if=/dev/zero of="$DBF" bs="$psz" seek=$((root - 1)) count=1 \
	    conv=notrunc 2> /dev/null
	wait "$RPID"
	rc=$?
	rm -f "$DBF-shm"
	cp "$WORK/db.keep" "$DBF"
	check "changed under the --agent lookup: exit 1, run again" \
	    grep -qx "nettally: $DBF: changed while nettally read it without a running store (nettally-stored started?); run nettally again" \
	    "$WORK/r.err"
	[ $rc -eq 1 ] || echo "# exit $rc; stderr: $(cat "$WORK/r.err")"
else
	cannot_run "a file changed under the --agent lookup" "strace cannot trace here"
fi
done_testing
