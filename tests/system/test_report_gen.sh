#!/bin/sh
# The report command end to end against an independent count: a generated
# capture replayed through agent -> store, then every `nettally top`
# report and a series compared with the sums of the generator's own CSV
# files, first in the raw tier, then after retention has rolled every
# bucket up into the daily tier (the capture is from 2023).
. "$(dirname "$0")/lib.sh"

NT=$NT_BIN/nettally
dir=$WORK/gen
mkdir -p "$dir"
# Under 100 ports and peers a host: the roll-up's top-N keeps them all.
if ! "$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 30000 \
    --mix --seed 21 --local-hosts 40 --remote-hosts 300 --flows 2000 \
    --duration 600; then
	not_ok "generator ran"
	done_testing
	exit 1
fi

# Sums of the generator's rows (header skipped) per key: $1 the awk key
# expression over the CSV's fields, $2 the file, $3 the direction field,
# $4 packets' field (bytes_l3 and bytes_wire follow it); optional $5 an
# awk condition.  Prints key,bytes,in_bytes,out_bytes,packets,frame_bytes.
gen_sum() {
	awk -F, -v OFS=, "NR > 1 ${5:+&& ($5)} {
		k = $1; b[k] += \$($4 + 1); p[k] += \$$4; w[k] += \$($4 + 2)
		if (\$$3 == \"in\") i[k] += \$($4 + 1); else o[k] += \$($4 + 1)
	} END { for (k in b) print k, b[k], i[k] + 0, o[k] + 0, p[k], w[k] }" \
	    "$2"
}
# report NAME ARGS...: `nettally top NAME` over everything as CSV rows
# without the header, cut to the key and the five counters (no rates).
report() {
	r_name=$1; shift
	case $r_name in
	hosts|ports|peers|interfaces) r_cut=1-7 ;;
	*) r_cut=1-6 ;;
	esac
	"$NT" top "$r_name" --db "$DB" --since all --until all --limit 100000 \
	    --format csv "$@" | tail -n +2 | cut -d, -f"$r_cut"
}
# same TEXT EXPECTED-FILE ACTUAL-FILE: one check, rows in any order.
same() {
	sort "$2" >"$WORK/s_exp"
	sort "$3" >"$WORK/s_act"
	if [ -s "$WORK/s_exp" ] && cmp -s "$WORK/s_exp" "$WORK/s_act"; then
		ok "$1"
	else
		not_ok "$1"
		diff "$WORK/s_exp" "$WORK/s_act" | head -10 | sed 's/^/# /'
	fi
}

gen_sum '$1 "," $2' "$dir/hosts.csv" 4 5 >"$WORK/e_hosts"
gen_sum '$3 "," $4' "$dir/ports.csv" 5 6 '$3 == "tcp" || $3 == "udp"' \
    >"$WORK/e_ports"
gen_sum '$1 "," $2' "$dir/peers.csv" 5 6 >"$WORK/e_peers"
gen_sum '$3' "$dir/hosts.csv" 4 5 >"$WORK/e_protos"
gen_sum '"gen"' "$dir/hosts.csv" 4 5 >"$WORK/e_agents"
sed 's/^gen,/gen,in.pcap,/' "$WORK/e_agents" >"$WORK/e_ifaces"
gen_sum '$1' "$dir/hosts_by_interval.csv" 5 6 >"$WORK/e_series"

# compare_all LABEL: every report against the generator's sums.
compare_all() {
	report hosts >"$WORK/a_hosts"
	same "$1: top hosts equals the generator's per-host sums" \
	    "$WORK/e_hosts" "$WORK/a_hosts"
	report ports | grep -E '^(tcp|udp),' >"$WORK/a_ports"
	same "$1: top ports equals the generator's TCP and UDP port sums" \
	    "$WORK/e_ports" "$WORK/a_ports"
	report peers >"$WORK/a_peers"
	same "$1: top peers equals the generator's per-peer sums" \
	    "$WORK/e_peers" "$WORK/a_peers"
	# The generator names tcp, udp, icmp, icmpv6 and sums the rest.
	report protocols | awk -F, -v OFS=, '
	    $1 !~ /^(tcp|udp|icmp|icmpv6)$/ {
		for (f = 2; f <= 6; f++) o[f] += $f; next }
	    { print }
	    END { print "other", o[2], o[3], o[4], o[5], o[6] }' \
	    >"$WORK/a_protos"
	same "$1: top protocols equals the generator's per-protocol sums" \
	    "$WORK/e_protos" "$WORK/a_protos"
	report agents >"$WORK/a_agents"
	same "$1: top agents equals the generator's totals" \
	    "$WORK/e_agents" "$WORK/a_agents"
	report interfaces >"$WORK/a_ifaces"
	same "$1: top interfaces equals the generator's totals" \
	    "$WORK/e_ifaces" "$WORK/a_ifaces"
}

start_store || { not_ok "store starts"; done_testing; exit 1; }
# shellcheck disable=SC2046
if agent -r "$dir/in.pcap" $(local_nets "$dir") --name gen --resolution 60 \
    2>"$WORK/agent.err"; then
	ok "agent replays the capture and exits 0"
else
	not_ok "agent replays the capture and exits 0"
	sed 's/^/# /' "$WORK/agent.err"
fi
compare_all raw
# The minutes with traffic, as the generator counted them, epoch first.
"$NT" series --db "$DB" --since 2023-11-14T22:00:00Z \
    --until 2023-11-14T23:00:00Z --format csv | tail -n +2 |
    awk -F, -v OFS=, '$6 > 0 { print $2, $3, $4, $5, $6, $7 }' \
    >"$WORK/a_series"
same "raw: series per minute equals the generator's per-interval sums" \
    "$WORK/e_series" "$WORK/a_series"
check "store stops cleanly" stop_store

# Retention by the wall clock (by default ages count from the newest
# bucket, of 2023 too): every 2023 bucket goes to the daily tier (kept
# 100 years, so the test does not expire it in 2028), ports and peers
# under --top-ports and --top-peers kept.
STORE_ARGS="--keep-raw 7d --keep-daily 100y --retention-clock wall"
start_store "$DB" || { not_ok "store starts again"; done_testing; exit 1; }
not_daily() {
	sql "SELECT (SELECT count(*) FROM host_stat WHERE resolution <> 86400)
	    + (SELECT count(*) FROM port_stat WHERE resolution <> 86400)
	    + (SELECT count(*) FROM peer_stat WHERE resolution <> 86400)"
}
check "retention rolls every raw bucket up (within 60 s)" \
    wait_for '[ "$(not_daily)" = 0 ]' 600
compare_all daily
check "store stops cleanly after the roll-up" stop_store
done_testing
