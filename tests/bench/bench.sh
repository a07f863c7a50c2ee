#!/bin/sh
# bench.sh - `make bench`: nettally measured beside its peers on this machine.
#
# Usage: tests/bench/bench.sh BINDIR [SECTION...]
#   BINDIR holds the optimised binaries and BINDIR/bench the helpers
#   (pcapread, sqlfloor, latency, ackwait).  SECTIONs: offline live
#   latency ingest growth rollup (default: all, in that order).
#
# Every figure is printed as one line "bench: KEY VALUE" and appended to
# $BENCH_DIR/results.txt (default build/bench); a table follows at the end.
# Captures come from the project's generator and are deterministic, so
# they are kept in $BENCH_DIR and reused while the generator is unchanged.
# Every process the script starts is stopped by PID; the network
# namespaces it creates (ntb_*) are removed on exit.  Live traffic flows
# only inside those namespaces.
set -u

BIN=${1:?usage: bench.sh BINDIR [SECTION...]}
shift
BIN=$(cd "$BIN" && pwd)
HELP=$BIN/bench
GEN=$BIN/nettally-gen
BENCH_DIR=${BENCH_DIR:-build/bench}
mkdir -p "$BENCH_DIR"
B=$(cd "$BENCH_DIR" && pwd)
RES=$B/results.txt
TABLE=$B/table.txt
HZ=$(getconf CLK_TCK)
LIVE_SECONDS=${LIVE_SECONDS:-10}
# Live windows per capturer: this VM's CPU share swings by a fifth to a
# half from one 10 s window to the next, so the agent and tcpdump are each
# measured over several and their median is the figure.
LIVE_WINDOWS=${LIVE_WINDOWS:-3}
# pmacctd's sqlite3 plugin manages about 10^4 frames/s here: it reads a
# prefix of the 64-byte capture so the run stays within the time budget.
PMACCT_SQL_FRAMES=${PMACCT_SQL_FRAMES:-100000}
# Its cache, in keys: more than the prefix has, so it writes once.
PMACCT_SQL_CACHE=${PMACCT_SQL_CACHE:-200003}
# Frames the ingest agents replay between them, whatever their number.
INGEST_FRAMES=${INGEST_FRAMES:-320000}
SECTIONS=${*:-offline live latency ingest growth rollup}

STORE_PID=
AGENT_PID=
PEER_PID=
NETNS=

cleanup() {
	for p in $AGENT_PID $PEER_PID $STORE_PID; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for n in $NETNS; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$RES"
: >"$TABLE"

# fig KEY VALUE: one machine-readable figure.
fig() {
	echo "bench: $1 $2" | tee -a "$RES"
}
# row TEXT...: one line of the closing table.
row() {
	printf '%s\n' "$*" >>"$TABLE"
}
note() {
	echo "# $*" | tee -a "$RES"
}
calc() {
	awk "BEGIN { printf \"$1\\n\", $2 }"
}
now_ns() {
	date +%s%N
}
# cpu_ticks PID: utime + stime of a process and its threads so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
hwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# capture NAME GEN_ARGS...: a deterministic capture, generated once.
capture() {
	name=$1; shift
	f=$B/$name.pcap
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ] || \
	    [ "$(cat "$B/$name.args" 2>/dev/null)" != "$*" ]; then
		"$GEN" -o "$f" "$@" >/dev/null || { echo "bench: gen $name failed" >&2; exit 1; }
		# On disk before anything is timed: the kernel writing back
		# a fresh capture (the IMIX one is 370 MB) beside a replay
		# took a first run from 490,000 to 356,000 packets a second.
		sync "$f"
		echo "$*" >"$B/$name.args"
	fi
	echo "$f"
}

# store_start DIR: a fresh store with its database in DIR.
store_start() {
	rm -rf "$1"
	mkdir -p "$1"
	# As deployed: the store unprivileged, the agent dropping to a user
	# once its capture is open (here both nobody, so the socket's 0660
	# lets the agent in).
	chown "$RUN_USER" "$1"
	$AS_USER "$BIN/nettally-stored" -s "$1/sock" -d "$1/db.sqlite" \
	    2>"$1/store.log" &
	STORE_PID=$!
	i=0
	while [ ! -S "$1/sock" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$STORE_PID" 2>/dev/null; then
			echo "bench: store did not start" >&2
			cat "$1/store.log" >&2
			exit 1
		fi
		sleep 0.05
	done
}
# store_stop: sets STORE_CPU (ticks) and STORE_HWM (KiB) before stopping.
store_stop() {
	STORE_CPU=$(cpu_ticks "$STORE_PID")
	STORE_HWM=$(hwm_kib "$STORE_PID")
	kill -TERM "$STORE_PID"
	wait "$STORE_PID"
	STORE_PID=
}
q() {
	sqlite3 -batch -noheader "$1" "$2"
}

NETS="-n 10.1.0.0/16 -n fd00:1::/64"
RUN_USER=nobody
if [ "$(id -u)" = 0 ]; then
	AS_USER="setpriv --reuid=$RUN_USER --regid=nogroup --clear-groups"
	AGENT_USER="--user $RUN_USER ${BENCH_AGENT_OPTS:-}"
else
	AS_USER=
	AGENT_USER=${BENCH_AGENT_OPTS:-}
fi

# replay NAME PCAP [AGENT ARGS...]: agent -r through a fresh store.
# Sets FRAMES WALL_S AGENT_CPU_S AGENT_RSS STORE_CPU_S STORE_RSS ROWS.
replay() {
	name=$1 pcap=$2; shift 2
	d=$B/run.$name
	store_start "$d"
	t0=$(now_ns)
	# shellcheck disable=SC2086
	/usr/bin/time -f '%U %S %M' -o "$d/agent.time" "$BIN/nettally-agent" \
	    $AGENT_USER -s "$d/sock" -r "$pcap" $NETS --name "$name" "$@" 2>"$d/agent.err"
	rc=$?
	t1=$(now_ns)
	store_stop
	if [ $rc -ne 0 ]; then
		echo "bench: agent failed on $name:" >&2
		cat "$d/agent.err" >&2
		exit 1
	fi
	WALL_S=$(calc '%.6f' "($t1 - $t0) / 1e9")
	AGENT_CPU_S=$(awk '{ printf "%.2f", $1 + $2 }' "$d/agent.time")
	AGENT_RSS=$(awk '{ print $3 }' "$d/agent.time")
	STORE_CPU_S=$(calc '%.2f' "$STORE_CPU / $HZ")
	STORE_RSS=$STORE_HWM
	FRAMES=$(q "$d/db.sqlite" "SELECT sum(frames) FROM iface_stat")
	ROWS=$(q "$d/db.sqlite" "SELECT sum(nrecords) FROM batch")
}

# pmacct_rate PLUGIN PCAP FRAMES NAME: pmacctd's packets per second over
# a capture (PM_PPS), and its figures.  pmacctd sleeps 2 s before it reads
# a file and 2 s after its end before it stops its plugins, whatever the
# file: the wall time of the same run over a one-frame capture
# (PM_FIXED_S) is taken off.  Its plugin may work during the second
# sleep, so this rate is, if anything, pmacctd's best.
pmacct_rate() {
	pmacct_file "$1" "$B/c64_one.pcap" "$B/run.$4_one"
	PM_FIXED_S=$PM_WALL_S
	pmacct_file "$1" "$2" "$B/run.$4"
	work=$(calc '%.6f' "$PM_WALL_S - $PM_FIXED_S")
	[ "$(calc '%d' "($work > 0.001)")" = 1 ] || work=0.001
	PM_PPS=$(calc '%.0f' "$3 / $work")
	k=offline.c64.$4
	fig "offline.c64.pps.$4" "$PM_PPS"
	fig "$k.wall_s" "$PM_WALL_S"
	fig "$k.fixed_s" "$PM_FIXED_S"
	fig "$k.counted" "$PM_COUNTED"
	fig "$k.rss_kib" "$PM_RSS"
}

# best3 CMD...: the shortest wall time of three runs, in seconds.
best3() {
	best=
	for _ in 1 2 3; do
		t0=$(now_ns)
		"$@" >/dev/null 2>&1 || { echo "bench: $1 failed" >&2; exit 1; }
		t1=$(now_ns)
		dt=$((t1 - t0))
		if [ -z "$best" ] || [ $dt -lt "$best" ]; then best=$dt; fi
	done
	calc '%.6f' "$best / 1e9"
}

# pmacct_file PLUGIN PCAP DIR: pmacctd over a file.  Sets PM_WALL_S,
# PM_RSS (the largest VmHWM of its processes, sampled every 20 ms) and
# PM_COUNTED (packets it recorded).  Configured to lose as little as it
# can: the print plugin appends each purge of its cache to the file
# (by default each overwrites the one before), and the sqlite3 plugin's
# cache holds every key of its capture, so it writes once, at the end
# (by default each full cache forks a writer, and writers that overlap
# fail on "database is locked" and drop their rows).
pmacct_file() {
	plugin=$1 pcap=$2 d=$3
	rm -rf "$d"; mkdir -p "$d"
	{
		echo "daemonize: false"
		echo "pcap_savefile: $pcap"
		echo "plugins: $plugin"
		echo "aggregate: src_host, dst_host, src_port, dst_port, proto"
		echo "plugin_buffer_size: 102400"
		echo "plugin_pipe_size: 10240000"
	} >"$d/pm.conf"
	if [ "$plugin" = sqlite3 ]; then
		sqlite3 "$d/pm.db" </usr/share/doc/pmacct/sql/pmacct-create-table_v1.sqlite3
		{
			echo "sql_db: $d/pm.db"
			echo "sql_table_version: 1"
			echo "sql_refresh_time: 60"
			echo "sql_history: 1m"
			echo "sql_history_roundoff: m"
			echo "sql_cache_entries: $PMACCT_SQL_CACHE"
		} >>"$d/pm.conf"
	else
		{
			echo "print_output_file: $d/out.csv"
			echo "print_output_file_append: true"
			echo "print_output: csv"
			echo "print_refresh_time: 60"
		} >>"$d/pm.conf"
	fi
	# The core exits at the end of the file while its plugin process
	# is still writing: in a session of its own, the run ends when the
	# last process of that session has.
	t0=$(now_ns)
	setsid pmacctd -f "$d/pm.conf" >"$d/log" 2>&1 &
	pm=$!
	PM_RSS=0
	while pids=$(pgrep -s "$pm"); do
		for p in $pids; do
			r=$(hwm_kib "$p")
			[ "${r:-0}" -gt "$PM_RSS" ] && PM_RSS=$r
		done
		sleep 0.02
	done
	wait "$pm"
	t1=$(now_ns)
	PM_WALL_S=$(calc '%.6f' "($t1 - $t0) / 1e9")
	if [ "$plugin" = sqlite3 ]; then
		PM_COUNTED=$(q "$d/pm.db" "SELECT coalesce(sum(packets), 0) FROM acct")
	elif [ -f "$d/out.csv" ]; then
		PM_COUNTED=$(awk -F, '$1 != "SRC_IP" { s += $6 } END { print s + 0 }' "$d/out.csv")
	else
		PM_COUNTED=0
	fi
}

section_offline() {
	note "offline: agent -r plus store until the last ACK, fresh store per run"
	c64=$(capture c64 --packets 1000000 --size 64 --local-hosts 1000 \
	    --remote-hosts 50000 --flows 200000)
	cimix=$(capture imix --packets 1000000 --size imix --local-hosts 1000 \
	    --remote-hosts 50000 --flows 200000)
	c1m=$(capture f1m --packets 1000000 --size 64 --local-hosts 1000 \
	    --remote-hosts 50000 --flows 1000000)
	row "OFFLINE (1,000,000 frames)        pps   agent ns/pkt  store ns/pkt  agent RSS MiB  store RSS MiB  rows"
	for v in c64 imix f1m; do
		case $v in
		c64)	f=$c64 ;;
		imix)	f=$cimix ;;
		*)	f=$c1m ;;
		esac
		replay "off_$v" "$f"
		pps=$(calc '%.0f' "$FRAMES / $WALL_S")
		ans=$(calc '%.0f' "$AGENT_CPU_S * 1e9 / $FRAMES")
		sns=$(calc '%.0f' "$STORE_CPU_S * 1e9 / $FRAMES")
		fig "offline.$v.frames" "$FRAMES"
		fig "offline.$v.pps.nettally" "$pps"
		fig "offline.$v.agent_cpu_ns_per_pkt" "$ans"
		fig "offline.$v.store_cpu_ns_per_pkt" "$sns"
		fig "offline.$v.agent_rss_kib" "$AGENT_RSS"
		fig "offline.$v.store_rss_kib" "$STORE_RSS"
		fig "offline.$v.rows" "$ROWS"
		row "$(printf '  nettally %-22s %9s %10s %13s %13s %14s %9s' "$v" "$pps" "$ans" "$sns" \
		    "$(calc '%.1f' "$AGENT_RSS / 1024")" "$(calc '%.1f' "$STORE_RSS / 1024")" "$ROWS")"
		eval "PPS_$v=$pps"
		eval "GO_$v=\"$ans $sns $AGENT_RSS $STORE_RSS $ROWS $pps\""
	done

	# The peers, on the 64-byte capture.
	t=$(best3 tcpdump -r "$c64" -w /dev/null)
	tpps=$(calc '%.0f' "1000000 / $t")
	fig offline.c64.pps.tcpdump "$tpps"
	t=$(best3 "$HELP/pcapread" "$c64")
	rpps=$(calc '%.0f' "1000000 / $t")
	fig offline.c64.pps.pcapread "$rpps"
	tcpdump -r "$c64" -c 1 -w "$B/c64_one.pcap" 2>/dev/null
	pmacct_rate print "$c64" 1000000 pmacctd_print
	ppps=$PM_PPS
	pcounted=$PM_COUNTED
	tcpdump -r "$c64" -c "$PMACCT_SQL_FRAMES" -w "$B/c64_prefix.pcap" 2>/dev/null
	# pmacctd's core may exit with most of a file still in its plugin's
	# pipe (once it recorded 50 of the 100,000 frames): a rate over work
	# it did not do compares nothing.  Up to three runs, the first that
	# recorded every frame; none such, no ratio.
	for _ in 1 2 3; do
		pmacct_rate sqlite3 "$B/c64_prefix.pcap" "$PMACCT_SQL_FRAMES" \
		    pmacctd_sqlite3
		[ "$PM_COUNTED" = "$PMACCT_SQL_FRAMES" ] && break
	done
	spps=$PM_PPS
	fig offline.c64.pmacctd_sqlite3.frames "$PMACCT_SQL_FRAMES"
	fig offline.c64.ratio.tcpdump "$(calc '%.3f' "$PPS_c64 / $tpps")"
	fig offline.c64.ratio.pcapread "$(calc '%.3f' "$PPS_c64 / $rpps")"
	fig offline.c64.ratio.pmacctd_print "$(calc '%.2f' "$PPS_c64 / $ppps")"
	row "  tcpdump -r -w /dev/null         $tpps pps   nettally = $(calc '%.3f' "$PPS_c64 / $tpps")x  (bar >= 0.5x)"
	row "  bare libpcap read loop          $rpps pps   nettally = $(calc '%.3f' "$PPS_c64 / $rpps")x"
	row "  pmacctd print plugin            $ppps pps   nettally = $(calc '%.2f' "$PPS_c64 / $ppps")x  (it recorded $pcounted of 1000000 packets)"
	if [ "$PM_COUNTED" = "$PMACCT_SQL_FRAMES" ]; then
		fig offline.c64.ratio.pmacctd_sqlite3 "$(calc '%.1f' "$PPS_c64 / $spps")"
		row "  pmacctd sqlite3 plugin          $spps pps   nettally = $(calc '%.1f' "$PPS_c64 / $spps")x  (bar >= 50x; first $PMACCT_SQL_FRAMES frames, it recorded $PM_COUNTED)"
	else
		row "  pmacctd sqlite3 plugin          no ratio: it lost frames in three runs (the last recorded $PM_COUNTED of the first $PMACCT_SQL_FRAMES)"
	fi
	row "  (pmacctd: rate over its wall time less a one-frame capture's, $(calc '%.2f' "$PM_FIXED_S") s: it sleeps 2 s before and 2 s after a file)"
}

# netns_up: ntb_tx --veth-- ntb_rx, links up, IPv6 off (no ND noise).
netns_up() {
	ip netns del ntb_tx 2>/dev/null
	ip netns del ntb_rx 2>/dev/null
	ip netns add ntb_tx && ip netns add ntb_rx || return 1
	NETNS="ntb_tx ntb_rx"
	ip link add ntb0 netns ntb_tx type veth peer name ntb1 netns ntb_rx || return 1
	for n in tx rx; do
		ip netns exec ntb_$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip -n ntb_$n link set lo up
	done
	ip -n ntb_tx link set ntb0 up && ip -n ntb_rx link set ntb1 up
}
netns_down() {
	for n in $NETNS; do ip netns del "$n" 2>/dev/null; done
	NETNS=
}
rx_packets() {
	ip netns exec ntb_rx cat /sys/class/net/ntb1/statistics/rx_packets
}
tx_packets() {
	ip netns exec ntb_tx cat /sys/class/net/ntb0/statistics/tx_packets
}

# 64-byte UDP frames (no FCS) from 10.1.0.R to 198.18.0.1:53, random
# source byte and source port: 256 local hosts, IP checksum recomputed.
trafgen_conf() {
	cat <<'EOF'
{
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x32, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
  csumip(14, 33),
  10, 1, 0, drnd(),  198, 18, 0, 1,
  drnd(2), 0x00, 0x35, 0x00, 0x1e, 0x00, 0x00,
  fill(0x00, 22)
}
EOF
}

# load_run NAME: trafgen for LIVE_SECONDS at its highest rate while
# $LOAD_PID (already capturing on ntb1) is measured.  Sets SENT ARRIVED
# LOAD_CPU (percent of one core, the process and its children) and
# LOAD_CPU_S (its CPU seconds).
load_run() {
	tree_ticks() {
		t=$(cpu_ticks "$LOAD_PID")
		for c in $(cat /proc/"$LOAD_PID"/task/*/children 2>/dev/null); do
			t=$((t + $(cpu_ticks "$c")))
		done
		echo "$t"
	}
	tx0=$(tx_packets); rx0=$(rx_packets)
	c0=$(tree_ticks); t0=$(now_ns)
	if [ "$TRAFGEN" = trafgen ]; then
		ip netns exec ntb_tx timeout -s INT "$LIVE_SECONDS" trafgen \
		    --dev ntb0 --conf "$B/trafgen.cfg" --cpus 1 -Q \
		    >"$B/trafgen.$1.log" 2>&1
	else
		ip netns exec ntb_tx timeout -s INT "$LIVE_SECONDS" "$GEN" \
		    --send ntb0 --rate 0 --packets 100000000 --size 64 \
		    --local-hosts 256 --flows 1000 >"$B/trafgen.$1.log" 2>&1
	fi
	c1=$(tree_ticks); t1=$(now_ns)
	sleep 0.3
	SENT=$(($(tx_packets) - tx0))
	ARRIVED=$(($(rx_packets) - rx0))
	LOAD_CPU=$(calc '%.1f' "($c1 - $c0) / $HZ * 100 / (($t1 - $t0) / 1e9)")
	LOAD_CPU_S=$(calc '%.3f' "($c1 - $c0) / $HZ")
}

# load_windows NAME: load_run LIVE_WINDOWS times back to back.  Sets SENT
# ARRIVED LOAD_CPU_S (sums over the windows), LOAD_CPU (the median
# window's) and LOAD_CPUS (every window's, comma-separated).
load_windows() {
	w=0 sent=0 arrived=0 cpu_s=0 LOAD_CPUS=
	while [ $w -lt "$LIVE_WINDOWS" ]; do
		load_run "$1.$w"
		sent=$((sent + SENT))
		arrived=$((arrived + ARRIVED))
		cpu_s=$(calc '%.3f' "$cpu_s + $LOAD_CPU_S")
		LOAD_CPUS=${LOAD_CPUS:+$LOAD_CPUS,}$LOAD_CPU
		w=$((w + 1))
	done
	SENT=$sent ARRIVED=$arrived LOAD_CPU_S=$cpu_s
	LOAD_CPU=$(echo "$LOAD_CPUS" | tr , '\n' | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
}

# per_frame_ns FRAMES: the last load's CPU in ns per frame of FRAMES.
per_frame_ns() {
	if [ "${1:-0}" -gt 0 ]; then
		calc '%.0f' "$LOAD_CPU_S * 1e9 / $1"
	else
		echo none
	fi
}

section_live() {
	note "live: trafgen -> veth (netns ntb_tx -> ntb_rx) at the highest rate, $LIVE_WINDOWS windows of ${LIVE_SECONDS} s for the agent and for tcpdump, one for pmacctd"
	if ! netns_up; then
		note "live: cannot create network namespaces here: section not run"
		netns_down
		return
	fi
	trafgen_conf >"$B/trafgen.cfg"
	TRAFGEN=trafgen
	if ! ip netns exec ntb_tx trafgen --dev ntb0 --conf "$B/trafgen.cfg" \
	    -n 10 -Q >"$B/trafgen.probe" 2>&1; then
		TRAFGEN=nettally-gen
		note "live: trafgen cannot run here ($(tail -n 1 "$B/trafgen.probe")); sender is nettally-gen --send instead"
	fi
	fig live.sender "$TRAFGEN"
	row "LIVE ($LIVE_WINDOWS x ${LIVE_SECONDS} s, 64-byte UDP, sender $TRAFGEN)   sent       arrived    counted    kernel drops  CPU % of one core (median window)"

	d=$B/run.live
	store_start "$d"
	s0=$(cpu_ticks "$STORE_PID")
	ip netns exec ntb_rx "$BIN/nettally-agent" $AGENT_USER -i ntb1 -n 10.1.0.0/16 \
	    -s "$d/sock" --name live 2>"$d/agent.err" &
	AGENT_PID=$!
	wait_rows=0
	while [ "$(q "$d/db.sqlite" "SELECT count(*) FROM agent" 2>/dev/null)" != 1 ]; do
		wait_rows=$((wait_rows + 1))
		[ $wait_rows -gt 100 ] && break
		sleep 0.1
	done
	LOAD_PID=$AGENT_PID
	st0=$(now_ns)
	load_windows nettally
	st1=$(now_ns)
	s1=$(cpu_ticks "$STORE_PID")
	kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
	store_stop
	counted=$(q "$d/db.sqlite" "SELECT coalesce(sum(frames), 0) FROM iface_stat")
	drops=$(q "$d/db.sqlite" "SELECT coalesce(sum(kernel_drops), 0) FROM health_stat")
	scpu=$(calc '%.1f' "($s1 - $s0) / $HZ * 100 / (($st1 - $st0) / 1e9)")
	fig live.sent "$SENT"
	fig live.sent_pps "$(calc '%.0f' "$SENT / $LIVE_SECONDS / $LIVE_WINDOWS")"
	fig live.arrived "$ARRIVED"
	fig live.counted.nettally "$counted"
	fig live.kernel_drops.nettally "$drops"
	fig live.cpu_pct.agent "$LOAD_CPU"
	fig live.cpu_pct.agent.windows "$LOAD_CPUS"
	# The cost of a frame, which unlike the share of a core does not
	# grow with the rate this machine's sender reaches.
	nsf=$(per_frame_ns "$counted")
	agent_nsf=$nsf
	fig live.cpu_ns_per_frame.agent "$nsf"
	fig live.cpu_pct.store "$scpu"
	row "$(printf '  nettally agent (store %5s%%)  %10s %10s %10s %10s  %-5s (%s ns a frame)' "$scpu" "$SENT" "$ARRIVED" "$counted" "$drops" "$LOAD_CPU" "$nsf")"

	ip netns exec ntb_rx tcpdump -i ntb1 -s 512 -B 32768 -w /dev/null \
	    2>"$B/tcpdump.live.log" &
	PEER_PID=$!
	sleep 1
	LOAD_PID=$PEER_PID
	load_windows tcpdump
	kill -INT "$PEER_PID"; wait "$PEER_PID"; PEER_PID=
	tcap=$(awk '/packets captured/ { print $1 }' "$B/tcpdump.live.log")
	tdrop=$(awk '/dropped by kernel/ { print $1 }' "$B/tcpdump.live.log")
	fig live.sent.tcpdump_run "$SENT"
	fig live.counted.tcpdump "${tcap:-0}"
	fig live.kernel_drops.tcpdump "${tdrop:-0}"
	fig live.cpu_pct.tcpdump "$LOAD_CPU"
	fig live.cpu_pct.tcpdump.windows "$LOAD_CPUS"
	nsf=$(per_frame_ns "${tcap:-0}")
	fig live.cpu_ns_per_frame.tcpdump "$nsf"
	# This VM's speed swings from minute to minute: the agent's cost of
	# a frame over tcpdump's, measured in the same minute, does less.
	ratio=none
	if [ "$agent_nsf" != none ] && [ "$nsf" != none ] && [ "$nsf" -gt 0 ]; then
		ratio=$(calc '%.2f' "$agent_nsf / $nsf")
	fi
	fig live.cpu_ns_per_frame.agent_over_tcpdump "$ratio"
	row "$(printf '  tcpdump -w /dev/null          %10s %10s %10s %10s  %-5s (%s ns a frame; agent %sx)' "$SENT" "$ARRIVED" "${tcap:-?}" "${tdrop:-?}" "$LOAD_CPU" "$nsf" "$ratio")"

	pd=$B/run.pm_live
	rm -rf "$pd"; mkdir -p "$pd"
	{
		echo "daemonize: false"
		echo "pcap_interface: ntb1"
		echo "plugins: print"
		echo "aggregate: src_host, dst_host, src_port, dst_port, proto"
		echo "print_output_file: $pd/out.csv"
		echo "print_output_file_append: true"
		echo "print_output: csv"
		echo "print_refresh_time: 60"
		echo "plugin_buffer_size: 102400"
		echo "plugin_pipe_size: 10240000"
	} >"$pd/pm.conf"
	ip netns exec ntb_rx pmacctd -f "$pd/pm.conf" >"$pd/log" 2>&1 &
	PEER_PID=$!
	sleep 1.5
	LOAD_PID=$PEER_PID
	load_run pmacctd
	kill -INT "$PEER_PID"; wait "$PEER_PID"; PEER_PID=
	pcount=$(awk -F, '$1 != "SRC_IP" { s += $6 } END { print s + 0 }' "$pd/out.csv" 2>/dev/null)
	fig live.sent.pmacctd_run "$SENT"
	fig live.counted.pmacctd "${pcount:-0}"
	fig live.cpu_pct.pmacctd "$LOAD_CPU"
	row "$(printf '  pmacctd print plugin          %10s %10s %10s %10s  %s' "$SENT" "$ARRIVED" "${pcount:-?}" "n/a" "$LOAD_CPU")"
	netns_down
}

section_latency() {
	note "latency: UDP marker every 100 ms on a namespace's loopback, until its row is visible"
	ip netns del ntb_lat 2>/dev/null
	if ! ip netns add ntb_lat; then
		note "latency: cannot create a network namespace here: section not run"
		return
	fi
	NETNS="$NETNS ntb_lat"
	ip -n ntb_lat link set lo up
	row "LATENCY (capture -> row visible)   markers  p50 ms   p99 ms   max ms   bar p99 <="
	for fl in 1000 100; do
		d=$B/run.lat$fl
		store_start "$d"
		ip netns exec ntb_lat "$BIN/nettally-agent" $AGENT_USER -i lo -n 127.77.0.0/16 \
		    -s "$d/sock" --name "lat$fl" --flush "$fl" \
		    'udp and dst port 47999' 2>"$d/agent.err" &
		AGENT_PID=$!
		i=0
		while [ "$(q "$d/db.sqlite" "SELECT count(*) FROM agent" 2>/dev/null)" != 1 ]; do
			i=$((i + 1))
			[ $i -gt 100 ] && break
			sleep 0.1
		done
		# shellcheck disable=SC2046
		set -- $(ip netns exec ntb_lat "$HELP/latency" "$d/db.sqlite" 47999 60 100)
		kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
		store_stop
		fig "latency.flush$fl.markers" "${1:-0}"
		fig "latency.flush$fl.p50_ms" "${2:-none}"
		fig "latency.flush$fl.p99_ms" "${3:-none}"
		fig "latency.flush$fl.max_ms" "${4:-none}"
		row "$(printf '  --flush %-5s                 %8s %8s %8s %8s   %s' "$fl" "${1:-0}" "${2:-?}" "${3:-?}" "${4:-?}" "$((fl + 100))")"
	done
	ip netns del ntb_lat
	NETNS=$(echo "$NETNS" | sed 's/ ntb_lat//')
}

# ingest_run N: ingest_once N three times; the figures of the fastest run.
ingest_run() {
	best=
	for _ in 1 2 3; do
		ingest_once "$1"
		if [ -z "$best" ] || [ "$(calc '%d' "$ING_S < $best")" = 1 ]; then
			best=$ING_S
			keep="$ING_S $ING_AGENT_RSS $ING_AGENT_CPU $ING_STORE_CPU $ING_STORE_RSS"
		fi
	done
	# shellcheck disable=SC2086
	set -- $keep
	ING_S=$1 ING_AGENT_RSS=$2 ING_AGENT_CPU=$3 ING_STORE_CPU=$4 ING_STORE_RSS=$5
	ING_RPS=$(calc '%.0f' "$ROWS / $ING_S")
}

# ingest_once N: N agents replay their own captures at once into one store.
ingest_once() {
	n=$1
	per=$((INGEST_FRAMES / n))
	d=$B/run.ingest$n
	store_start "$d"
	i=0
	while [ $i -lt "$n" ]; do
		f=$(capture "ing${n}_$i" --packets "$per" --size 64 --seed $((i + 100)) \
		    --local-hosts 1000 --remote-hosts 50000 --flows $((per / 2)) --duration 60)
		eval "f_$i=\$f"
		i=$((i + 1))
	done
	# One shell starts the agents and waits for them, under one time(1):
	# its children's CPU is the agents' total, where each agent's own
	# (10,000 frames of 32) can be under time's 10 ms resolution.  Each
	# agent's own time(1) is for its peak RSS.
	i=0
	{
		while [ $i -lt "$n" ]; do
			eval "f=\$f_$i"
			# Paths quoted; the option lists are word lists.
			echo "/usr/bin/time -f '%U %S %M' -o '$d/agent$i.time'" \
			    "'$BIN/nettally-agent' $AGENT_USER -s '$d/sock'" \
			    "-r '$f' $NETS --name ing$i 2>'$d/agent$i.err' &" \
			    "pids=\"\$pids \$!\""
			i=$((i + 1))
		done
		echo 'fail=0; for p in $pids; do wait "$p" || fail=1; done; exit $fail'
	} >"$d/agents.sh"
	t0=$(now_ns)
	fail=0
	/usr/bin/time -f '%U %S' -o "$d/agents.time" sh "$d/agents.sh" || fail=1
	t1=$(now_ns)
	store_stop
	[ $fail -eq 0 ] || { echo "bench: an ingest agent failed" >&2; cat "$d"/agent*.err >&2; exit 1; }
	ROWS=$(q "$d/db.sqlite" "SELECT sum(nrecords) FROM batch")
	BATCHES=$(q "$d/db.sqlite" "SELECT count(*) FROM batch")
	NHOST=$(q "$d/db.sqlite" "SELECT count(*) FROM host_stat")
	NPORT=$(q "$d/db.sqlite" "SELECT count(*) FROM port_stat")
	NPEER=$(q "$d/db.sqlite" "SELECT count(*) FROM peer_stat")
	ING_S=$(calc '%.6f' "($t1 - $t0) / 1e9")
	ING_AGENT_RSS=$(cat "$d"/agent[0-9]*.time | awk '{ if ($3 > m) m = $3 } END { print m }')
	ING_AGENT_CPU=$(tail -n 1 "$d/agents.time" | awk '{ printf "%.2f", $1 + $2 }')
	ING_STORE_CPU=$(calc '%.2f' "$STORE_CPU / $HZ")
	ING_STORE_RSS=$STORE_HWM
	ING_PKTS=$((per * n))
}

section_ingest() {
	note "ingest: N agents replay $INGEST_FRAMES frames between them at once into one store"
	row "INGEST                  rows      seconds  rows/s     floor rows/s  ratio (bar >= 0.7)"
	for n in 1 8 32; do
		ingest_run "$n"
		# The rows the store wrote, read back from its database, and
		# as many records updating a row an earlier transaction wrote
		# as the store's workload had; the fastest of three runs, as
		# for the store.
		fbest=
		for _ in 1 2 3; do
			rm -f "$B/floor.sqlite"*
			# shellcheck disable=SC2046
			set -- $("$HELP/sqlfloor" "$B/floor.sqlite" \
			    "$d/db.sqlite" 32768 \
			    $((ROWS - NHOST - NPORT - NPEER)))
			[ $# -eq 2 ] || { echo "bench: sqlfloor failed" >&2; exit 1; }
			if [ -z "$fbest" ] || [ "$(calc '%d' "$2 < $fbest")" = 1 ]; then
				fbest=$2
			fi
		done
		frps=$(calc '%.0f' "$1 / $fbest")
		fig "ingest.agents$n.rows" "$ROWS"
		fig "ingest.agents$n.batches" "$BATCHES"
		fig "ingest.agents$n.rows_per_s" "$ING_RPS"
		fig "ingest.agents$n.floor_rows_per_s" "$frps"
		fig "ingest.agents$n.ratio" "$(calc '%.3f' "$ING_RPS / $frps")"
		fig "growth.agents$n.agent_cpu_ns_per_pkt" "$(calc '%.0f' "$ING_AGENT_CPU * 1e9 / $ING_PKTS")"
		fig "growth.agents$n.store_cpu_ns_per_row" "$(calc '%.0f' "$ING_STORE_CPU * 1e9 / $ROWS")"
		fig "growth.agents$n.agent_rss_kib_max" "$ING_AGENT_RSS"
		fig "growth.agents$n.store_rss_kib" "$ING_STORE_RSS"
		row "$(printf '  %2d agents  %12s %10s %10s %12s     %s' "$n" "$ROWS" "$ING_S" "$ING_RPS" "$frps" "$(calc '%.3f' "$ING_RPS / $frps")")"
		eval "GA_$n=\"$(calc '%.0f' "$ING_AGENT_CPU * 1e9 / $ING_PKTS") $(calc '%.0f' "$ING_STORE_CPU * 1e9 / $ROWS") $ING_AGENT_RSS $ING_STORE_RSS\""
		rm -f "$B/floor.sqlite"*
	done
}

section_growth() {
	note "growth: 1,000,000 64-byte frames as distinct flows grow (agent -r, fresh store)"
	row "GROWTH by flows     agent ns/pkt  store ns/pkt  agent RSS MiB  store RSS MiB  rows"
	# 200,000 and 1,000,000 flows are the offline section's c64 and f1m
	# runs, not run twice.
	for fl in 1000 10000 100000 200000 1000000; do
		case $fl in
		200000)		v=${GO_c64:-} ;;
		1000000)	v=${GO_f1m:-} ;;
		*)
			f=$(capture "g$fl" --packets 1000000 --size 64 \
			    --local-hosts 1000 --remote-hosts 50000 --flows "$fl")
			replay "g$fl" "$f"
			v="$(calc '%.0f' "$AGENT_CPU_S * 1e9 / $FRAMES") $(calc '%.0f' "$STORE_CPU_S * 1e9 / $FRAMES") $AGENT_RSS $STORE_RSS $ROWS $(calc '%.0f' "$FRAMES / $WALL_S")"
			;;
		esac
		[ -n "$v" ] || continue
		# shellcheck disable=SC2086
		set -- $v
		fig "growth.flows$fl.agent_cpu_ns_per_pkt" "$1"
		fig "growth.flows$fl.store_cpu_ns_per_pkt" "$2"
		fig "growth.flows$fl.agent_rss_kib" "$3"
		fig "growth.flows$fl.store_rss_kib" "$4"
		fig "growth.flows$fl.pps" "$6"
		row "$(printf '  %8s flows  %12s %13s %14s %14s  %s' "$fl" "$1" "$2" \
		    "$(calc '%.1f' "$3 / 1024")" "$(calc '%.1f' "$4 / 1024")" "$5")"
	done
	row "GROWTH by agents    agent ns/pkt  store ns/row  agent RSS MiB (max)  store RSS MiB"
	for n in 1 8 32; do
		eval "v=\${GA_$n:-}"
		[ -n "$v" ] || continue
		# shellcheck disable=SC2086
		set -- $v
		row "$(printf '  %2d agents  %15s %13s %20s %14s' "$n" "$1" "$2" \
		    "$(calc '%.1f' "$3 / 1024")" "$(calc '%.1f' "$4 / 1024")")"
	done
}

# rollup_store DIR ARGS...: a store on DIR's existing database (not
# fresh), with retention options.
rollup_store() {
	rd=$1; shift
	rm -f "$rd/sock"
	$AS_USER "$BIN/nettally-stored" -s "$rd/sock" -d "$rd/db.sqlite" "$@" \
	    2>>"$rd/store.log" &
	STORE_PID=$!
	i=0
	while [ ! -S "$rd/sock" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$STORE_PID" 2>/dev/null; then
			echo "bench: store did not start" >&2
			cat "$rd/store.log" >&2
			exit 1
		fi
		sleep 0.05
	done
}
# rollup_counts DB: "raw rows, rows rolled up so far" of the database.
rollup_counts() {
	q "$1" "SELECT (SELECT count(*) FROM host_stat WHERE resolution = 300)
	    + (SELECT count(*) FROM port_stat WHERE resolution = 300)
	    + (SELECT count(*) FROM peer_stat WHERE resolution = 300),
	    (SELECT CAST(total(moved) + total(expired) AS INTEGER)
	    FROM retention_progress)" |
	    tr '|' ' '
}

section_rollup() {
	note "rollup: ingest latency (BATCH sent to its ACK, ackwait) while a roll-up of 400 days runs"
	row "ROLL-UP (batch -> ACK)        batches  p50 ms   p99 ms   max ms   rows rolled up meanwhile  bar p99 <="
	d=$B/run.rollup
	now=$(date +%s)
	# 400 days at 5-minute buckets, dated in the past; regenerated as
	# the days pass (the start is in the arguments).
	f=$(capture rollup --packets 600000 --size 64 --local-hosts 100 \
	    --remote-hosts 2000 --flows 20000 --start $(((now - 400 * 86400) / 86400 * 86400)) \
	    --duration $((400 * 86400)))
	rm -rf "$d"
	mkdir -p "$d"
	chown "$RUN_USER" "$d"
	rollup_store "$d" --keep-raw 1000d
	# shellcheck disable=SC2086
	"$BIN/nettally-agent" $AGENT_USER -s "$d/sock" -r "$f" $NETS \
	    --name rollup --resolution 300 2>"$d/agent.err" ||
	    { echo "bench: rollup agent failed" >&2; cat "$d/agent.err" >&2; exit 1; }
	# The same client with nothing to roll up, for comparison.
	# shellcheck disable=SC2046
	set -- $("$HELP/ackwait" "$d/sock" idle 5 50 200)
	fig rollup.idle.batches "${1:-0}"
	fig rollup.idle.p50_ms "${2:-none}"
	fig rollup.idle.p99_ms "${3:-none}"
	fig rollup.idle.max_ms "${4:-none}"
	row "$(printf '  no roll-up                 %8s %8s %8s %8s' "${1:-0}" "${2:-?}" "${3:-?}" "${4:-?}")"
	store_stop
	# Restarted with short tiers, the store has 400 days to hand on.
	# shellcheck disable=SC2046
	set -- $(rollup_counts "$d/db.sqlite")
	raw0=${1:-?}
	rollup_store "$d" --keep-raw 2d --keep-hourly 10d --keep-daily 60d \
	    --monthly
	sleep 1
	# shellcheck disable=SC2046
	set -- $(rollup_counts "$d/db.sqlite")
	raw1=${1:-?} moved1=${2:-0}
	# shellcheck disable=SC2046
	set -- $("$HELP/ackwait" "$d/sock" during 15 50 200)
	nb=${1:-0} p50=${2:-none} p99=${3:-none} pmax=${4:-none}
	# shellcheck disable=SC2046
	set -- $(rollup_counts "$d/db.sqlite")
	raw2=${1:-?} moved2=${2:-0}
	caught=$(grep -c 'retention: caught up' "$d/store.log")
	store_stop
	fig rollup.raw_rows.at_restart "$raw0"
	fig rollup.raw_rows.measure_start "$raw1"
	fig rollup.raw_rows.measure_end "$raw2"
	fig rollup.rows_rolled_during "$((moved2 - moved1))"
	fig rollup.caught_up_before_end "$caught"
	# A failed client leaves the bar "not measured", never met.
	if [ "$nb" != 0 ]; then
		fig rollup.during.batches "$nb"
		fig rollup.during.p50_ms "$p50"
		fig rollup.during.p99_ms "$p99"
		fig rollup.during.max_ms "$pmax"
	else
		note "rollup: ackwait failed during the roll-up: nothing measured"
	fi
	note "rollup: raw rows $raw0 at restart, $raw1 when the measurement began, $raw2 when it ended; $((moved2 - moved1)) rows rolled up during it; roll-up caught up before the end: $([ "$caught" = 0 ] && echo no || echo yes)"
	row "$(printf '  roll-up running            %8s %8s %8s %8s   %10s               50' "$nb" "$p50" "$p99" "$pmax" "$((moved2 - moved1))")"
}

# bars: the issue's bar, each figure against it, from results.txt.
bars() {
	awk '
	$1 == "bench:" { v[$2] = $3 }
	function bar(name, key, op, lim,   x, ok) {
		if (!(key in v)) { printf "  %-44s %12s  %s %s  not measured\n", name, "-", op, lim; return }
		x = v[key] + 0
		ok = (op == ">=") ? x >= lim : (op == "<=") ? x <= lim : x == lim
		printf "  %-44s %12s  %s %s  %s\n", name, v[key], op, lim, ok ? "met" : "NOT MET"
	}
	END {
		print "BARS"
		bar("offline pps vs tcpdump -r -w /dev/null", "offline.c64.ratio.tcpdump", ">=", 0.5)
		bar("offline pps vs pmacctd sqlite3", "offline.c64.ratio.pmacctd_sqlite3", ">=", 50)
		bar("live kernel drops", "live.kernel_drops.nettally", "==", 0)
		bar("live agent CPU % of one core", "live.cpu_pct.agent", "<=", 10)
		bar("agent peak RSS KiB, 200k flows", "offline.c64.agent_rss_kib", "<=", 49152)
		bar("store peak RSS KiB, 200k flows", "offline.c64.store_rss_kib", "<=", 65536)
		bar("latency p99 ms at --flush 1000", "latency.flush1000.p99_ms", "<=", 1100)
		bar("latency p99 ms at --flush 100", "latency.flush100.p99_ms", "<=", 200)
		bar("ingest vs SQLite floor, 1 agent", "ingest.agents1.ratio", ">=", 0.7)
		bar("ingest vs SQLite floor, 8 agents", "ingest.agents8.ratio", ">=", 0.7)
		bar("ingest vs SQLite floor, 32 agents", "ingest.agents32.ratio", ">=", 0.7)
		bar("ingest p99 ms (batch to ACK) during roll-up", "rollup.during.p99_ms", "<=", 50)
		bar("make bench seconds", "total_seconds", "<=", 600)
	}' "$RES" >>"$TABLE"
}

start=$(now_ns)
note "machine: $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SECTIONS; do
	"section_$s"
done
note "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fig total_seconds "$(calc '%.0f' "($(now_ns) - $start) / 1e9")"
bars
echo
cat "$TABLE"
cat "$TABLE" >>"$RES"
