#!/bin/sh
# The store as deployed: it refuses root unless told, creates its database
# directory 0750 and files 0640 whatever the caller's umask, and takes the
# socket systemd passes (socket activation: LISTEN_PID/LISTEN_FDS, fd 3),
# which it never removes.  An agent delivers through a passed socket.
. "$(dirname "$0")/lib.sh"

ST=$NT_BIN/nettally-stored
if [ "$(id -u)" != 0 ]; then
	cannot_run_all "store root refusal, modes and socket activation" "needs root"
fi

check "--version names the program, its version, protocol and schema" \
    sh -c "'$ST' --version | grep -q '^nettally-stored [0-9.]* (protocol [0-9]*, database schema [0-9]*)$'"
va=$("$NT_BIN/nettally-agent" --version | cut -d' ' -f2)
vs=$("$ST" --version | cut -d' ' -f2)
vr=$("$NT_BIN/nettally" --version | cut -d' ' -f2)
check "the three programs print one version ($va $vs $vr)" \
    test -n "$va" -a "$va" = "$vs" -a "$vs" = "$vr"

check "-V is --version" sh -c "'$ST' -V | grep -q '^nettally-stored [0-9]'"

# --- command-line mistakes: one line, exit 2 -----------------------------
"$ST" --allow-root "$WORK/x.db" >"$WORK/out" 2>&1
rc=$?
check "a stray argument: exit 2 (got $rc)" test $rc = 2
check "  ... one line naming it and --db, no usage" \
    test "$(wc -l <"$WORK/out")" = 1 -a \
    -n "$(grep 'x.db.*unexpected argument' "$WORK/out" | grep -e '--db')"
"$ST" --bogus >"$WORK/out" 2>&1
rc=$?
check "an unknown option: exit 2 (got $rc)" test $rc = 2
check "  ... getopt's line and where to look, no usage" \
    test "$(wc -l <"$WORK/out")" = 2 -a -n "$(grep -e '--help' "$WORK/out")"
# strtoul skipped blanks and took a sign: " 60" and "+60" were 60, and
# "-1" a huge number that only the range caught.
for v in ' 60' '+60' '-1'; do
	for o in --read-timeout --top-ports --socket-mode; do
		case $o in
		--read-timeout) want="not a number of seconds from 1 to 3600" ;;
		--top-ports) want="not a number from 0 (all) to 1000000" ;;
		*) want="not an octal mode of at most 0777" ;;
		esac
		timeout 10 "$ST" --allow-root -s "$WORK/nsock" -d "$WORK/n.db" \
		    $o "$v" >"$WORK/out" 2>&1
		rc=$?
		check "$o '$v': exit 2 (got $rc), one line with the usual message" \
		    sh -c "test $rc = 2 && test \$(wc -l <'$WORK/out') = 1 &&
		    grep -qF -- '$o $v: $want' '$WORK/out'"
	done
done
check "  ... before touching anything" test ! -e "$WORK/n.db"

# --- another program's database is refused, and left as it was ----------
sqlite3 "$WORK/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
timeout 10 "$ST" --allow-root -s "$WORK/osock" -d "$WORK/other.db" >"$WORK/out" 2>&1
rc=$?
check "a database with tables but no nettally schema: exit 1 (got $rc)" \
    test $rc = 1
check "  ... says so and names --db" \
    grep -q "not a nettally database.*--db" "$WORK/out"
check "  ... and the file keeps its journal mode and its one table" \
    test "$(sqlite3 "$WORK/other.db" "PRAGMA journal_mode;
    SELECT group_concat(name) FROM sqlite_master;" | tr '\n' ' ')" = "delete t "
timeout 10 "$ST" --allow-root -s "$WORK/osock" -d "$WORK" >"$WORK/out" 2>&1
rc=$?
check "a directory as the database: exit 1 (got $rc), named as one" \
    sh -c "test $rc = 1 && grep -q 'is a directory' '$WORK/out'"
# A FIFO read as a "disk I/O error" blamed on the directory's mode, and a
# device was opened as a file (as root, --db /dev/null created
# /dev/null-journal): anything but a regular file is refused by name.
mkfifo "$WORK/fifo.db"
timeout 10 "$ST" --allow-root -s "$WORK/osock" -d "$WORK/fifo.db" >"$WORK/out" 2>&1
rc=$?
check "a FIFO as the database: exit 1 (got $rc), named as one" \
    sh -c "test $rc = 1 && grep -q 'fifo.db: not a regular file (a FIFO); give the database file.s path with --db' '$WORK/out'"
check "  ... and nothing created beside it" \
    test -z "$(ls "$WORK" | grep '^fifo.db-')"
# An empty path: SQLite made a private temporary database (then failed
# on WAL), bind an abstract socket (then chmod failed on "").
for o in -s -d; do
	timeout 10 "$ST" --allow-root -s "$WORK/osock" -d "$WORK/e.db" $o "" \
	    >"$WORK/out" 2>&1
	rc=$?
	check "an empty $o: a usage error, exit 2 (got $rc)" \
	    sh -c "test $rc = 2 && grep -q -e ': empty path; give the' '$WORK/out'"
done
check "  ... before touching anything" test ! -e "$WORK/e.db"
printf 'not sqlite at all, but long enough to be read as a header....\n' \
    >"$WORK/junk.db"
timeout 10 "$ST" --allow-root -s "$WORK/osock" -d "$WORK/junk.db" >"$WORK/out" 2>&1
rc=$?
check "a file that is not a database: exit 1 (got $rc)" test $rc = 1
check "  ... the fix, and no word of batches at start-up" \
    sh -c "grep -q integrity_check '$WORK/out' && ! grep -q batches '$WORK/out'"

# --- root is refused without --allow-root ------------------------------
"$ST" -s "$WORK/rsock" -d "$WORK/r/db.sqlite" >"$WORK/out" 2>&1
rc=$?
check "as root without --allow-root: exit 1 (got $rc)" test $rc = 1
check "  ... one line naming --allow-root and the service user" \
    test "$(wc -l <"$WORK/out")" = 1 -a \
    -n "$(grep -e '--allow-root' "$WORK/out" | grep nettally)"
check "  ... before touching anything: no database, no socket" \
    test ! -e "$WORK/r" -a ! -e "$WORK/rsock"

# --- modes: directory 0750, files 0640, even under umask 0 -------------
(umask 000; exec "$ST" --allow-root -s "$WORK/msock" -d "$WORK/m/db.sqlite" \
    2>"$WORK/m.log") &
MPID=$!
wait_for "[ -S '$WORK/msock' ]" 100
"$NT_GEN" -o "$WORK/m.pcap" -e "$WORK/m.exp" --packets 500 --mix --seed 4 \
    >/dev/null
"$NT_BIN/nettally-agent" -s "$WORK/msock" -r "$WORK/m.pcap" --name modes \
    2>/dev/null
check "database directory is 0750" test "$(stat -c %a "$WORK/m")" = 750
check "database file is 0640" test "$(stat -c %a "$WORK/m/db.sqlite")" = 640
check "its -wal and -shm files are 0640" \
    test "$(stat -c %a "$WORK/m/db.sqlite-wal")" = 640 -a \
    "$(stat -c %a "$WORK/m/db.sqlite-shm")" = 640
# A second store on the same database through another socket: refused,
# saying why, before it touches the file.  Before, it ran beside the
# first as a second writer.
"$ST" --allow-root -s "$WORK/msock2" -d "$WORK/m/db.sqlite" > /dev/null 2> "$WORK/m2.log" &
M2PID=$!
wait_for "[ -S '$WORK/msock2' ] || ! kill -0 $M2PID 2>/dev/null" 100
kill -TERM $M2PID 2>/dev/null
wait $M2PID
rc=$?
check "a second store on the same database: exit 1 (got $rc)" test $rc = 1
check "  ... one line: another store writes to it, stop that one" sh -c "
    [ \$(wc -l < '$WORK/m2.log') -eq 1 ] &&
    grep -q 'cannot use database $WORK/m/db.sqlite: another nettally-stored writes to it.*one store per database' '$WORK/m2.log'"
check "  ... and made no socket" test ! -e "$WORK/msock2"
"$NT_BIN/nettally" status -s "$WORK/msock" > /dev/null 2>&1
rc=$?
check "  ... and the first store still answers (exit $rc)" test $rc = 0
kill -TERM $MPID
wait $MPID
check "store stops cleanly" test $? = 0
# Stopped, it leaves the database to the next store.
"$ST" --allow-root -s "$WORK/msock2" -d "$WORK/m/db.sqlite" 2> "$WORK/m2.log" &
M2PID=$!
wait_for "[ -S '$WORK/msock2' ]" 100
check "a store starts on the database once the first stopped" test -S "$WORK/msock2"
kill -TERM $M2PID
wait $M2PID
check "  ... and stops cleanly" test $? = 0

# --- as deployed without systemd: store and agent both end up nettally --
if getent passwd nettally >/dev/null; then
	N=$WORK/svc
	mkdir -p "$N"
	chown nettally:nettally "$N"
	# Default socket mode (0660) and default allow list: the agent,
	# started as root, reaches the store only as the user it drops to.
	setpriv --reuid=nettally --regid=nettally --init-groups -- \
	    "$ST" -s "$N/sock" -d "$N/db/db.sqlite" 2>"$WORK/svc.log" &
	NPID=$!
	wait_for "[ -S '$N/sock' ]" 100
	check "store as nettally: socket is 0660 nettally:nettally" \
	    test "$(stat -c '%a %U:%G' "$N/sock")" = "660 nettally:nettally"
	"$NT_BIN/nettally-agent" -s "$N/sock" -r "$WORK/m.pcap" \
	    --name as-deployed 2>"$WORK/svc.err"
	rc=$?
	check "root agent drops to nettally and delivers to it (exit $rc)" \
	    test $rc = 0
	[ $rc = 0 ] || sed 's/^/# /' "$WORK/svc.err" "$WORK/svc.log"
	check "  ... its database is nettally's, 0640" \
	    test "$(stat -c '%a %U' "$N/db/db.sqlite")" = "640 nettally"
	kill -TERM $NPID
	wait $NPID
	check "  ... and the store stops cleanly" test $? = 0
else
	cannot_run "store and agent as the user nettally" "no user nettally (make deps creates it)"
fi

# --- socket activation -------------------------------------------------
if ! command -v systemd-socket-activate >/dev/null; then
	cannot_run_all "socket activation" "systemd-socket-activate missing"
fi
ASOCK=$WORK/asock
DB=$WORK/a.sqlite
(exec systemd-socket-activate -l "$ASOCK" \
    "$ST" --allow-root -d "$DB" -s "$WORK/not-this-one" \
    2>"$WORK/a.log") &
APID=$!
# systemd-socket-activate listens itself and execs the store on the first
# connection: the agent's connect starts it.
wait_for "[ -S '$ASOCK' ]" 100
# What SocketMode=0660 with SocketGroup=nettally does in the unit: the
# agent's user may connect.  The store leaves the mode as it finds it.
chmod 0666 "$ASOCK"
dir=$WORK/act
mkdir -p "$dir"
chmod 0755 "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --packets 3000 --mix --seed 8 \
    --size imix >/dev/null
chmod 0644 "$dir/in.pcap"
nets=$(local_nets "$dir")
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$ASOCK" -r "$dir/in.pcap" $nets \
    --name activated 2>"$dir/agent.err"
rc=$?
check "agent delivers through the passed socket (exit $rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$dir/agent.err" "$WORK/a.log"
check "the store says the socket was passed by systemd" \
    grep -q "listening on $ASOCK (passed by systemd)" "$WORK/a.log"
check "  ... and made no socket of its own at -s" test ! -e "$WORK/not-this-one"
db_hosts activated >"$dir/h"
check "activated: host_traffic equals the generator's" same_rows "$dir/hosts.csv" "$dir/h"
db_ports activated >"$dir/o"
check "activated: port_traffic equals the generator's" same_rows "$dir/ports.csv" "$dir/o"
db_iface activated >"$dir/i"
check "activated: interface_traffic equals the generator's" same_rows "$dir/interface.csv" "$dir/i"
kill -TERM $APID
wait $APID
rc=$?
check "activated store stops cleanly on SIGTERM (status $rc)" test $rc = 0
check "  ... and leaves the passed socket to systemd" test -S "$ASOCK"

# --- LISTEN_* that are wrong, or not for this process -------------------
sh -c 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$0" --allow-root -d "$1" -s "$2"' \
    "$ST" "$WORK/b.sqlite" "$WORK/bsock" >"$WORK/out" 2>&1
rc=$?
check "two passed sockets: exit 1 (got $rc)" test $rc = 1
check "  ... saying the store listens on one" grep -q "2 sockets passed" "$WORK/out"
sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --allow-root -d "$1" -s "$2" 3</dev/null' \
    "$ST" "$WORK/b.sqlite" "$WORK/bsock" >"$WORK/out" 2>&1
rc=$?
check "fd 3 not a socket: exit 1 (got $rc)" test $rc = 1
check "  ... saying so" grep -q "fd 3 is not a socket" "$WORK/out"
# strtol took blanks and a sign: "+PID" was this process, " 1" one socket.
sh -c 'LISTEN_PID=+$$ LISTEN_FDS=1 exec "$0" --allow-root -d "$1" -s "$2" 3</dev/null' \
    "$ST" "$WORK/b.sqlite" "$WORK/bsock" >"$WORK/out" 2>&1
rc=$?
check "LISTEN_PID with a sign: exit 1 (got $rc), not a process id" \
    sh -c "test $rc = 1 && grep -q 'LISTEN_PID=+[0-9]* is not a process id' '$WORK/out'"
sh -c 'LISTEN_PID=$$ LISTEN_FDS=" 1" exec "$0" --allow-root -d "$1" -s "$2" 3</dev/null' \
    "$ST" "$WORK/b.sqlite" "$WORK/bsock" >"$WORK/out" 2>&1
rc=$?
check "LISTEN_FDS with a blank: exit 1 (got $rc), not a count" \
    sh -c "test $rc = 1 && grep -q 'LISTEN_FDS= 1 is not a count of sockets' '$WORK/out'"
# LISTEN_PID of another process: inherited, not ours; the store makes
# its own socket at -s.
LISTEN_PID=1 LISTEN_FDS=1 "$ST" --allow-root -d "$WORK/c.sqlite" \
    -s "$WORK/csock" 2>"$WORK/c.log" &
CPID=$!
check "LISTEN_PID of another process: ignored, the store binds -s" \
    wait_for "[ -S '$WORK/csock' ]" 100
kill -TERM $CPID
wait $CPID
check "  ... and removes its own socket at exit" test ! -e "$WORK/csock"
done_testing
