# lib.sh - shared by the end-to-end scripts: TAP output, a private store,
# the agent, and comparisons of the database with expected CSV files.
# Every process a script starts is stopped by PID and its files removed on
# exit; network namespaces are removed by the script that made them.

: "${NT_BIN:?set NT_BIN to the directory holding the binaries}"
: "${NT_GEN:=$NT_BIN/nettally-gen}"
[ -x "$NT_GEN" ] || NT_GEN=$NT_BIN/nettally-gen

t_n=0
t_fail=0
WORK=$(mktemp -d /tmp/nettally-test.XXXXXX)
# An agent started as root drops to an unprivileged user (nettally, or
# --user) before it connects: it must be able to reach $WORK/sock.
chmod 0711 "$WORK"
STORE_PID=
CLEANUP_HOOKS=
NETNS_MADE=

ok() { t_n=$((t_n + 1)); echo "ok $t_n - $*"; }
not_ok() { t_n=$((t_n + 1)); t_fail=$((t_fail + 1)); echo "not ok $t_n - $*"; }
# check DESC CMD...: one TAP line from a command's status.
check() {
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# cannot_run DESC REASON: a skip, except under CI where it is a failure.
cannot_run() {
	if [ "${CI:-}" = true ]; then
		not_ok "$1 (cannot run under CI: $2)"
	else
		ok "$1 # SKIP $2"
	fi
}
# skip DESC REASON: a skip even under CI, for an optional input that no
# package provides (the shared corpus); a missing tool is cannot_run.
skip() {
	ok "$1 # SKIP $2"
}
done_testing() {
	echo "1..$t_n"
	[ "$t_fail" -eq 0 ]
}
# reap_agent: wait for the background agent $AGENT_PID; its exit status
# in rc, and returned.  term_agent: the same after a SIGTERM.
reap_agent() {
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	return $rc
}
term_agent() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	reap_agent
}
# cannot_run_all WHAT WHY: nothing more of the script can run here.
cannot_run_all() {
	cannot_run "$1" "$2"
	done_testing
	exit $?
}

cleanup() {
	# The agent and the feeding process a script left running, by PID.
	for pid in ${AGENT_PID:-} ${FEED_PID:-}; do
		kill -KILL "$pid" 2>/dev/null
	done
	for h in $CLEANUP_HOOKS; do "$h"; done
	for ns in $NETNS_MADE; do ip netns del "$ns" 2>/dev/null; done
	[ -n "$STORE_PID" ] && kill -TERM "$STORE_PID" 2>/dev/null && wait "$STORE_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_store [DB]: a private store on $WORK/sock; $STORE_ARGS (words)
# are added to its options.  The raw tier is kept for 100 years unless
# STORE_ARGS says otherwise: generated and corpus captures span days to
# years, and the default retention (raw 7 days before the newest bucket)
# would roll their older buckets up while a test compares buckets.
# Returns once this store logs that it listens: its signal handlers are
# in place by then.  Not on the socket file, which a killed store leaves
# behind: start_store returned before the new store ran, and a SIGTERM
# at once reached the forked shell still holding this script's INT/TERM
# trap, which dash drops when it resets the traps for the exec; the
# store, never told, ran on and stop_store waited for it for ever.
start_store() {
	DB=${1:-$WORK/db.sqlite}
	SOCK=$WORK/sock
	: >>"$WORK/store.log"
	nlisten=$(grep -c 'store: listening on' "$WORK/store.log")
	# shellcheck disable=SC2086
	"$NT_BIN/nettally-stored" -s "$SOCK" -d "$DB" --socket-mode 0666 \
	    --allow-root --keep-raw 100y ${STORE_ARGS:-} 2>>"$WORK/store.log" &
	STORE_PID=$!
	i=0
	while [ "$(grep -c 'store: listening on' "$WORK/store.log")" -le \
	    "$nlisten" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$STORE_PID" 2>/dev/null; then
			echo "# store did not start:"; sed 's/^/# /' "$WORK/store.log"
			return 1
		fi
		sleep 0.05
	done
}

stop_store() {
	[ -n "$STORE_PID" ] || return 0
	kill -TERM "$STORE_PID"
	wait "$STORE_PID"
	rc=$?
	STORE_PID=
	return $rc
}

# agent ARGS...: runs the agent against the private store.
agent() {
	"$NT_BIN/nettally-agent" -s "$SOCK" "$@"
}

sql() {
	sqlite3 -batch -noheader -csv "$DB" "$1"
}

# sql_files FILE QUERY [FILE QUERY]...: one sqlite3 run writes the rows
# of each QUERY, as sql prints them, to its FILE: a process per view
# costs more than the query.  It stops at the first error, non-zero.
sql_files() {
	sf_n=0
	for sf_a in "$@"; do
		if [ $((sf_n % 2)) = 0 ]; then
			rm -f "$sf_a"
			set -- "$@" ".once '$sf_a'"
		else
			set -- "$@" "$sf_a"
		fi
		sf_n=$((sf_n + 1))
	done
	shift "$sf_n"
	sqlite3 -batch -noheader -csv "$DB" "$@"
}

PROTO_CLASS="CASE proto WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6' ELSE 'other' END"

# Each q_VIEW AGENT below sets Q to a query, and db_VIEW AGENT prints its
# rows.  q_hosts: whole-run host totals in the oracle's hosts.csv columns.
q_hosts() {
	Q="SELECT host, family, $PROTO_CLASS AS pc, direction, sum(packets),
	    sum(bytes), sum(frame_bytes) FROM host_traffic WHERE agent = '$1'
	    GROUP BY host, family, pc, direction"
}
q_ports() {
	Q="SELECT host, family, $PROTO_CLASS AS pc, port, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM port_traffic
	    WHERE agent = '$1' GROUP BY host, family, pc, port, direction"
}
q_peers() {
	Q="SELECT host, peer, family, $PROTO_CLASS AS pc, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM peer_traffic
	    WHERE agent = '$1' GROUP BY host, peer, family, pc, direction"
}
# Per-bucket variants, with the bucket first, as the generator's
# *_by_interval.csv files.
q_hosts_by_interval() {
	Q="SELECT bucket, host, family, $PROTO_CLASS AS pc, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM host_traffic
	    WHERE agent = '$1' GROUP BY bucket, host, family, pc, direction"
}
q_ports_by_interval() {
	Q="SELECT bucket, host, family, $PROTO_CLASS AS pc, port, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM port_traffic
	    WHERE agent = '$1' GROUP BY bucket, host, family, pc, port, direction"
}
q_peers_by_interval() {
	Q="SELECT bucket, host, peer, family, $PROTO_CLASS AS pc, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM peer_traffic
	    WHERE agent = '$1' GROUP BY bucket, host, peer, family, pc, direction"
}

# The interface counters in the order of the generator's interface.csv.
IFACE_SUMS="sum(frames), sum(frame_bytes), sum(ipv4_packets),
    sum(ipv6_packets), sum(non_ip_frames), sum(transit_packets),
    sum(malformed_frames)"
# q_iface AGENT, q_iface_by_interval AGENT: the agent's interface
# counters over the whole run, and per bucket (bucket first).
q_iface() {
	Q="SELECT $IFACE_SUMS FROM interface_traffic WHERE agent = '$1'"
}
q_iface_by_interval() {
	Q="SELECT bucket, $IFACE_SUMS FROM interface_traffic
	    WHERE agent = '$1' GROUP BY bucket"
}
db_hosts() { q_hosts "$1"; sql "$Q"; }
db_ports() { q_ports "$1"; sql "$Q"; }
db_peers() { q_peers "$1"; sql "$Q"; }
db_hosts_by_interval() { q_hosts_by_interval "$1"; sql "$Q"; }
db_ports_by_interval() { q_ports_by_interval "$1"; sql "$Q"; }
db_peers_by_interval() { q_peers_by_interval "$1"; sql "$Q"; }
db_iface() { q_iface "$1"; sql "$Q"; }
db_iface_by_interval() { q_iface_by_interval "$1"; sql "$Q"; }
# iface_counted DESC AGENT WHERE CSV: one check that AGENT's interface
# counters over the buckets WHERE selects equal the totals (last line) of
# the generator's interface.csv CSV; DESC is followed by what was found.
iface_counted() {
	got=$(sql "SELECT $IFACE_SUMS FROM interface_traffic
	    WHERE agent = '$2' AND $3")
	check "$1 ($got)" test "$got" = "$(tail -n 1 "$4")"
}

# batches_once AGENT: one check that every batch of AGENT's one epoch is
# recorded exactly once: seqs 1 to the last, none twice, none missing.
batches_once() {
	sql "SELECT count(*), count(DISTINCT seq), max(seq) FROM batch
	    JOIN agent ON agent.id = batch.agent_id WHERE agent.name = '$1'" \
	    >"$WORK/seqs"
	IFS=, read -r bo_n bo_nd bo_mx <"$WORK/seqs"
	check "every batch recorded once: $bo_n rows, $bo_nd distinct, max seq $bo_mx" \
	    test "$bo_n" = "$bo_nd" -a "$bo_n" = "$bo_mx"
}

# views_equal AGENT DIR [LABEL]: one check per view of AGENT against the
# generator's files in DIR: host, port, peer and interface totals, and
# per bucket too where the generator wrote them (--interval).  One
# sqlite3 run reads them all; if it fails, every check fails.
views_equal() {
	set -- "$1" "$2" "${3:-}"
	for ve_v in host:hosts:hosts port:ports:ports peer:peers:peers \
	    interface:iface:interface; do
		ve_t=${ve_v%%:*} ve_fn=${ve_v#*:} ve_f=${ve_v##*:}
		ve_fn=${ve_fn%%:*}
		"q_$ve_fn" "$1"
		set -- "$@" "$WORK/db_$ve_t" "$Q"
		[ -f "$2/${ve_f}_by_interval.csv" ] || continue
		"q_${ve_fn}_by_interval" "$1"
		set -- "$@" "$WORK/db_${ve_t}_i" "$Q"
	done
	ve_dir=$2 ve_l=$3
	shift 3
	if sql_files "$@" 2>"$WORK/db_err"; then
		ve_rc=0
	else
		ve_rc=1
		sed 's/^/# sqlite3: /' "$WORK/db_err"
	fi
	for ve_v in host:hosts port:ports peer:peers interface:interface; do
		ve_t=${ve_v%%:*} ve_f=${ve_v#*:}
		check "${ve_l:+$ve_l: }${ve_t}_traffic totals equal the generator's" \
		    ve_rows "$ve_dir/$ve_f.csv" "$WORK/db_$ve_t"
		[ -f "$ve_dir/${ve_f}_by_interval.csv" ] || continue
		ve_d="${ve_l:+$ve_l: }${ve_t}_traffic per bucket equals the generator's"
		check "$ve_d" ve_rows "$ve_dir/${ve_f}_by_interval.csv" \
		    "$WORK/db_${ve_t}_i"
	done
}
# ve_rows EXPECTED ACTUAL: same_rows, once views_equal's queries ran.
ve_rows() {
	[ "$ve_rc" = 0 ] && same_rows "$1" "$2"
}

# send_mix IFACE SEED PACKETS: those frames ($GEN_OPTS, that seed), out of
# IFACE in namespace $NSA, 20,000 a second: what gen_expect counted.
send_mix() {
	# shellcheck disable=SC2086
	ip netns exec "$NSA" "$NT_GEN" --send "$1" --packets "$3" \
	    --seed "$2" $GEN_OPTS --rate 20000
}

# local_nets DIR: " -n CIDR" for each local network of the generator's
# output in DIR (its cidrs.txt), for an agent's command line.
local_nets() {
	while read -r c; do printf ' -n %s' "$c"; done <"$1/cidrs.txt"
}

# replay_views NAME: the agent replays the generator's $WORK/NAME.cap
# (its local networks from $WORK/NAME/cidrs.txt, buckets of 60 s) under
# the agent name NAME; it exits 0 and every view equals the generator's
# count in $WORK/NAME.
replay_views() {
	# shellcheck disable=SC2046
	agent -r "$WORK/$1.cap" $(local_nets "$WORK/$1") --name "$1" \
	    --resolution 60 2>"$WORK/$1.err"
	check "$1: the agent exits 0" test $? -eq 0
	views_equal "$1" "$WORK/$1" "$1"
}

# gen_expect NAME SEED PACKETS: the generator's counts, in $WORK/NAME, of
# the frames `nettally-gen --send` sends with that seed and $GEN_OPTS.
gen_expect() {
	mkdir -p "$WORK/$1"
	# shellcheck disable=SC2086
	"$NT_GEN" -o "$WORK/$1/ref.pcap" -e "$WORK/$1" --packets "$3" \
	    --seed "$2" ${GEN_OPTS:-} >/dev/null
}

# spool_dir NAME: a fresh agent spool directory $WORK/NAME, owned by the
# user a root-started agent drops to; prints its path.
spool_dir() {
	mkdir -m 0700 "$WORK/$1" || return 1
	[ "$(id -u)" = 0 ] && chown nettally "$WORK/$1"
	echo "$WORK/$1"
}

# tmpfs_mount DIR SIZE: a small filesystem (a tmpfs of mount's size=SIZE)
# on DIR, created; root only.  tmpfs_unmount DIR takes it away, lazily if
# it is still busy.  fill_fs DIR KIB: a file DIR/fill that leaves KIB KiB
# free.
tmpfs_mount() {
	mkdir -p "$1" &&
	    mount -t tmpfs -o "size=$2,mode=0755" nettally-test "$1"
}
tmpfs_unmount() {
	umount "$1" 2>/dev/null || umount -l "$1"
}
fill_fs() {
	fs_free=$(df -k --output=avail "$1" | tail -n 1)
	dd if=/dev/zero of="$1/fill" bs=1024 count=$((fs_free - $2)) \
	    2>/dev/null
	return 0
}

# same_rows EXPECTED_CSV ACTUAL_FILE: equal as multisets of rows (header
# of the expected file dropped).  Shows the first differences on failure;
# a file that cannot be read is a difference.  Up to 20,000 expected rows
# one awk counts each row up in one file and down in the other: a process
# where tail, two sorts and cmp took four (most comparisons are of a few
# hundred rows, and a process costs ~10 ms on the CI machine).  Beyond,
# sort is the faster (a million rows: mawk's hash takes twice as long).
same_rows() {
	awk -v exp_name="$1" -v big=20000 '
	    FILENAME == ARGV[1] {
		if (FNR > big) {
			too_big = 1
			exit
		}
		if (FNR > 1)
			n[$0]++
		next
	    }
	    { n[$0]-- }
	    END {
		if (too_big)
			exit 3
		for (r in n) {
			if (n[r] == 0)
				continue
			if (!bad)
				print "# rows differ: < expected (" exp_name \
				    "), > database"
			if (++bad <= 10)
				print "# " (n[r] > 0 ? "< " : "> ") r
		}
		exit (bad > 0)
	    }' "$1" "$2"
	sr_rc=$?
	[ "$sr_rc" = 3 ] || return "$sr_rc"
	tail -n +2 "$1" | sort >"$WORK/exp.sorted"
	sort "$2" >"$WORK/act.sorted" || return 1
	if cmp -s "$WORK/exp.sorted" "$WORK/act.sorted"; then
		return 0
	fi
	echo "# rows differ: < expected ($1), > database"
	diff "$WORK/exp.sorted" "$WORK/act.sorted" | head -10 | sed 's/^/# /'
	return 1
}

# wait_for COND_CMD [TENTHS]: polls a command until it succeeds.
wait_for() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -ge "${2:-100}" ] && return 1
		sleep 0.1
	done
}

# netns_usable: root, and `ip netns` works here.
netns_usable() {
	[ "$(id -u)" = 0 ] && ip netns add "nt-probe-$$" 2>/dev/null &&
	    ip netns del "nt-probe-$$"
}

# netns_quiet NS...: new network namespaces, removed at exit (after the
# script's CLEANUP_HOOKS stopped what runs in them).  IPv6 is off and no
# address is set, so the kernel sends nothing on their links: every frame
# seen there is one a test sent.
netns_quiet() {
	for ns in "$@"; do
		ip netns add "$ns" || return 1
		NETNS_MADE="$NETNS_MADE $ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 ||
		    return 1
	done
}

# veth_pair NSA A NSB B: a veth pair, A in NSA and B in NSB, both up.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}
