#!/bin/sh
# Configuration files: settings in a file reach both programs, options on
# the command line win over them, a bad line stops the program with an
# error naming the file and the line, and the commented examples that
# make install ships are valid once uncommented.
. "$(dirname "$0")/lib.sh"

AG=$NT_BIN/nettally-agent
ST=$NT_BIN/nettally-stored
TOP=${NT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
start_store || { not_ok "store starts"; done_testing; exit 1; }

dir=$WORK/conf
mkdir -p "$dir"
chmod 0755 "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --packets 2000 --mix --seed 12 \
    >/dev/null
chmod 0644 "$dir/in.pcap"

# --- the agent takes its settings from the file -------------------------
{
	echo "# written by test_conf.sh"
	echo "socket = $SOCK"
	echo "name = conf-agent"
	echo "resolution = 30"
	while read -r c; do echo "  local   =   $c  "; done <"$dir/cidrs.txt"
	echo "verbose = no"
} >"$dir/agent.conf"
"$AG" --config "$dir/agent.conf" -r "$dir/in.pcap" 2>"$dir/err"
rc=$?
check "agent runs from a configuration file (exit $rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$dir/err"
check "  ... its name came from the file" \
    test "$(sql "SELECT count(*) FROM agent WHERE name = 'conf-agent'")" = 1
check "  ... and its resolution" \
    test "$(sql "SELECT resolution FROM agent WHERE name = 'conf-agent'")" = 30
db_hosts conf-agent >"$dir/h"
check "  ... and its local networks: host_traffic equals the generator's" \
    same_rows "$dir/hosts.csv" "$dir/h"

# --- flags win ----------------------------------------------------------
# A -n on the command line replaces every "local" line: with a network
# that holds none of the hosts, all traffic is transit and no host row
# is written.
"$AG" --config "$dir/agent.conf" -r "$dir/in.pcap" --name conf-flags \
    -n 198.51.100.0/24 2>"$dir/err"
rc=$?
check "command-line --name and -n over the file's (exit $rc)" test $rc = 0
check "  ... the command line's name is used" \
    test "$(sql "SELECT count(*) FROM agent WHERE name = 'conf-flags'")" = 1
check "  ... the file's name is not used again" \
    test "$(sql "SELECT count(*) FROM agent WHERE name = 'conf-agent'")" = 1
check "  ... the file's local networks are replaced, not added to" \
    test "$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'conf-flags'")" = 0
want=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)
check "  ... every frame is still counted ($want)" \
    test "$(sql "SELECT sum(frames) FROM interface_traffic WHERE agent = 'conf-flags'")" = "$want"

# A source on the command line replaces the file's, of either kind: the
# file of an operator who captures live does not stop a replay, nor the
# file's threads, which are for live capture.  (The file's interface
# holds a '/', as no Linux interface name does: it is never opened.)
# Its local networks are one line, a list separated by commas.
{
	echo "socket = $SOCK"
	echo "interface = nt/nosuch0"
	echo "threads = 2"
	echo "local = $(paste -s -d, "$dir/cidrs.txt")"
} >"$dir/live.conf"
"$AG" --config "$dir/live.conf" -r "$dir/in.pcap" --name conf-read \
    2>"$dir/err"
rc=$?
check "-r on the command line over the file's interface and threads (exit $rc)" \
    test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$dir/err"
db_hosts conf-read >"$dir/h"
check "  ... the file is replayed: host_traffic equals the generator's" \
    same_rows "$dir/hosts.csv" "$dir/h"
printf 'socket = %s\nthreads = 4\n' "$SOCK" >"$dir/threads.conf"
"$AG" --config "$dir/threads.conf" -r "$dir/in.pcap" --name conf-threads \
    -n 10.0.0.0/8 >"$dir/out" 2>&1
rc=$?
check "the file's threads do not stop a replay (exit $rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$dir/out"
"$AG" -r "$dir/in.pcap" --threads 4 -s "$SOCK" >"$dir/out" 2>&1
rc=$?
check "  ... while --threads on the command line with -r is refused ($rc)" \
    sh -c "[ $rc = 1 ] && grep -q -- '--threads: a file is read by one thread' '$dir/out'"
printf 'socket = %s\nread = %s\n' "$SOCK" "$dir/in.pcap" >"$dir/read.conf"
if [ "$(id -u)" = 0 ]; then
	"$AG" --config "$dir/read.conf" -i nt/nosuch0 -n 10.0.0.0/8 \
	    --exit-on-error >"$dir/out" 2>&1
	rc=$?
	check "-i on the command line over the file's read: it is opened (exit $rc)" \
	    sh -c "[ $rc = 1 ] && grep -q 'nt/nosuch0: no such interface' '$dir/out'"
	check "  ... and nothing excludes the file's read" \
	    sh -c "! grep -q 'exclude each other' '$dir/out'"
else
	cannot_run "-i on the command line over the file's read" \
	    "needs root to open a capture"
fi
# Both in the file: the error names it.
printf 'read = %s\ninterface = nt/nosuch0\n' "$dir/in.pcap" >"$dir/both.conf"
"$AG" --config "$dir/both.conf" -s "$SOCK" >"$dir/out" 2>&1
rc=$?
check "interface and read both in the file: exit 1 ($rc), naming the file" \
    sh -c "[ $rc = 1 ] && grep -qF '$dir/both.conf: interface and read exclude each other' '$dir/out'"
check "  ... in one line" test "$(wc -l <"$dir/out")" = 1

# --- bad lines: exit 1, naming the file and the line --------------------
# bad_agent EXPECTED_TEXT LINES...: each LINE a line of the file.
bad_agent() {
	want=$1; shift
	printf '%s\n' "$@" >"$dir/bad.conf"
	"$AG" --config "$dir/bad.conf" -r "$dir/in.pcap" -s "$SOCK" \
	    >"$dir/out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -qF -- "$want" "$dir/out"; then
		ok "agent refuses: $want"
	else
		not_ok "agent refuses: $want (exit $rc)"
		sed 's/^/# /' "$dir/out"
	fi
}
bad_agent "$dir/bad.conf:2: unknown key \"flsuh\"" "# x" "flsuh = 100"
bad_agent "$dir/bad.conf:1: not \"key = value\"" "flush 100"
bad_agent "$dir/bad.conf:3: name has no value" "" "" "name ="
bad_agent "$dir/bad.conf:1: verbose: \"sometimes\" is not yes or no" \
    "verbose = sometimes"
# A value the agent's own checks refuse: its message, then where.
bad_agent "$dir/bad.conf:2: the setting refused above" "name = x" "flush = 5"
check "  ... after the agent's own message for the value" \
    grep -q -- '--flush: "5" is not a number from 10' "$dir/out"
bad_agent "$dir/bad.conf:1: the setting refused above" "resolution = +60"
check "  ... a sign before a number too" \
    grep -q -- '--resolution: "+60" is not a number from 1' "$dir/out"
"$AG" --config "$dir/none.conf" -r "$dir/in.pcap" -s "$SOCK" >"$dir/out" 2>&1
rc=$?
check "a --config file that is missing: exit 1 (got $rc)" test $rc = 1
check "  ... naming it" grep -q "$dir/none.conf: cannot read: No such file" \
    "$dir/out"
# A FIFO hung the agent in open for ever, a directory failed with "read
# error": both refused at once, as not regular files.
mkfifo "$dir/fifo.conf"
mkdir -p "$dir/dir.conf"
for f in fifo dir; do
	kind="a FIFO"
	[ $f = dir ] && kind="a directory"
	timeout 10 "$AG" --config "$dir/$f.conf" -r "$dir/in.pcap" -s "$SOCK" \
	    >"$dir/out" 2>&1
	rc=$?
	check "a --config $f: the agent exits 1 at once (got $rc)" test $rc = 1
	check "  ... naming it, its kind, and what --config takes" grep -qF \
	    "$dir/$f.conf: not a regular file ($kind); --config takes a regular file of \"key = value\" lines" \
	    "$dir/out"
	timeout 10 "$ST" --config "$dir/$f.conf" --allow-root -d "$dir/n.sqlite" \
	    -s "$dir/nsock" >"$dir/out" 2>&1
	rc=$?
	check "  ... and the store exits 2 at once (got $rc)" test $rc = 2
	check "  ... naming it too" grep -qF \
	    "$dir/$f.conf: not a regular file ($kind)" "$dir/out"
done
# Windows editors start a file with a UTF-8 byte-order mark: skipped.
printf '\357\273\277socket = %s\nname = conf-bom\nresolution = 30\n' \
    "$SOCK" >"$dir/bom.conf"
"$AG" --config "$dir/bom.conf" -r "$dir/in.pcap" -n 10.0.0.0/8 \
    >"$dir/out" 2>&1
rc=$?
check "a file that starts with a byte-order mark is read (exit $rc)" \
    test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$dir/out"
check "  ... its first line too: the socket, name and resolution" \
    test "$(sql "SELECT resolution FROM agent WHERE name = 'conf-bom'")" = 30

# --- the store ------------------------------------------------------------
{
	echo "db = $dir/store/db.sqlite"
	echo "socket = $dir/ssock"
	echo "socket-mode = 0606"
	echo "allow-root = yes"
} >"$dir/stored.conf"
"$ST" --config "$dir/stored.conf" 2>"$dir/store.err" &
SPID=$!
check "store runs from a configuration file" \
    wait_for "[ -S '$dir/ssock' ]" 100
check "  ... with the file's socket mode" \
    test "$(stat -c %a "$dir/ssock")" = 606
check "  ... and the file's database" test -f "$dir/store/db.sqlite"
kill -TERM $SPID
wait $SPID
check "  ... and stops cleanly" test $? = 0
printf 'allow-root = yes\nsocket = %s\n\nread-timeout = 0\n' "$dir/tsock" \
    >"$dir/bad.conf"
"$ST" --config "$dir/bad.conf" -d "$dir/t.sqlite" >"$dir/out" 2>&1
rc=$?
check "store refuses a bad value in the file: exit 2 (got $rc)" test $rc = 2
check "  ... naming the file and line" \
    grep -qF "$dir/bad.conf:4: the setting refused above" "$dir/out"
printf 'allow-root = yes\nkeep-forever = 1\n' >"$dir/bad.conf"
"$ST" --config "$dir/bad.conf" >"$dir/out" 2>&1
rc=$?
check "store refuses an unknown key: exit 2 (got $rc)" test $rc = 2
check "  ... naming the file and line" \
    grep -qF "$dir/bad.conf:2: unknown key \"keep-forever\"" "$dir/out"
printf 'allow-root = yes\ntop-ports = +60\n' >"$dir/bad.conf"
timeout 10 "$ST" --config "$dir/bad.conf" -s "$dir/tsock" \
    -d "$dir/t.sqlite" >"$dir/out" 2>&1
rc=$?
check "store refuses a sign before a number: exit 2 (got $rc)" test $rc = 2
check "  ... with its message for the value" \
    grep -qF -- "--top-ports +60: not a number from 0 (all) to 1000000" \
    "$dir/out"
check "  ... and the file and line" \
    grep -qF "$dir/bad.conf:2: the setting refused above" "$dir/out"
# A flag wins over the same key in the file.
printf 'socket = %s\n' "$dir/never" >"$dir/s2.conf"
"$ST" --config "$dir/s2.conf" --allow-root -s "$dir/s2sock" \
    -d "$dir/s2.sqlite" 2>/dev/null &
SPID=$!
check "store: -s on the command line wins over the file's socket" \
    wait_for "[ -S '$dir/s2sock' ]" 100
check "  ... and the file's path is not used" test ! -e "$dir/never"
kill -TERM $SPID
wait $SPID

# --- the shipped examples, uncommented, are valid -------------------------
for ex in agent/agent.conf.example stored/stored.conf.example; do
	f=$TOP/$ex
	if [ ! -f "$f" ]; then
		not_ok "$ex exists"
		continue
	fi
	sed 's/^#\([a-z]\)/\1/' "$f" >"$dir/ex.conf"
	case $ex in
	agent/*) prog=$AG ;;
	*) prog=$ST ;;
	esac
	# Every value goes through the option checks before --help is seen.
	"$prog" --config "$dir/ex.conf" --help >/dev/null 2>"$dir/out"
	rc=$?
	check "$ex: every key, uncommented, is accepted (exit $rc)" test $rc = 0
	[ $rc = 0 ] || sed 's/^/# /' "$dir/out"
done
check "store stops cleanly on SIGTERM" stop_store
done_testing
