#!/bin/sh
# Flood: packets from random spoofed sources and random ports to local
# hosts, a new peer and port almost every packet.  The agent's peak
# resident memory stays under FLOOD_RSS_KB (README, "Agent capture"), and
# conservation is exact per bucket:
#   interface frames = host-row packets - both-local packets (counted on
#                      both sides) + transit + non-IP + malformed
# Replayed (the generator's own counts, exactly), then live in two network
# namespaces this script creates and removes, where the tables do overflow
# (the capture never waits for the sender) and the law still holds.
. "$(dirname "$0")/lib.sh"

FLOOD_RSS_KB=${FLOOD_RSS_KB:-106496}	# 104 MiB: README, "Agent capture"
REL_AGENT=${NT_REL:-$NT_BIN}/nettally-agent
[ -x "$REL_AGENT" ] || REL_AGENT=$NT_BIN/nettally-agent

start_store || { not_ok "store starts"; done_testing; exit 1; }
dir=$WORK/flood
# Recent times: the store rolls rows older than its raw retention up out
# of the per-bucket views.
start=$(($(date +%s) / 60 * 60 - 3600))
# A million packets, 15% of them spoofed: every spoofed packet is a new
# peer and port row for the store, whose commits set this test's pace.
"$NT_GEN" -o "$dir.pcap" -e "$dir" --packets 1000000 --flood 15 --mix \
    --size 64 --local-hosts 1000 --interval 60 --duration 300 --totals-only \
    --seed 41 --start "$start" >/dev/null || not_ok "generator writes the flood"
nets=$(local_nets "$dir")

# peak_kb FILE: GNU time's %M (kilobytes) from the last line of FILE.
peak_kb() { tail -n 1 "$1" | tr -dc 0-9; }

# per_bucket AGENT: bucket, frames, frame bytes, IPv4, IPv6, non-IP,
# transit, malformed, host-row packets, bytes, frame bytes.
per_bucket() {
	sql "SELECT i.bucket, i.f, i.fb, i.v4, i.v6, i.n, i.t, i.m,
	    COALESCE(h.p, 0), COALESCE(h.b, 0), COALESCE(h.w, 0) FROM
	    (SELECT bucket, sum(frames) f, sum(frame_bytes) fb,
	      sum(ipv4_packets) v4, sum(ipv6_packets) v6, sum(non_ip_frames) n,
	      sum(transit_packets) t, sum(malformed_frames) m
	     FROM interface_traffic WHERE agent = '$1' GROUP BY bucket) i
	    LEFT JOIN (SELECT bucket, sum(packets) p, sum(bytes) b,
	      sum(frame_bytes) w FROM host_traffic WHERE agent = '$1'
	      GROUP BY bucket) h USING (bucket)"
}

# --- replay: exact against the generator ---
# shellcheck disable=SC2086
if /usr/bin/time -f '%M' -o "$WORK/replay.time" "$REL_AGENT" -s "$SOCK" \
    -r "$dir.pcap" $nets --name replay --resolution 60 2>"$WORK/replay.err"; then
	ok "flood replay: agent exits 0"
else
	not_ok "flood replay: agent exits 0"; sed 's/^/# /' "$WORK/replay.err"
fi
kb=$(peak_kb "$WORK/replay.time")
check "flood replay: peak RSS ${kb} KiB under ${FLOOD_RSS_KB} KiB" \
    test "${kb:-999999999}" -lt "$FLOOD_RSS_KB"
per_bucket replay >"$WORK/replay.rows"
# The generator's interface and host totals joined per bucket, in the
# same columns (its both-local count stays aside for the law below).
awk -F, -v OFS=, 'NR == FNR { if (FNR > 1) h[$1] = $2 "," $3 "," $4; next }
    FNR > 1 { print $0, h[$1] }' "$dir/host_totals_by_interval.csv" \
    "$dir/interface_by_interval.csv" >"$WORK/want.rows"
sort "$WORK/want.rows" >"$WORK/want.sorted"
sort "$WORK/replay.rows" >"$WORK/got.sorted"
if cmp -s "$WORK/want.sorted" "$WORK/got.sorted"; then
	ok "flood replay: per bucket, interface and host totals equal the generator's"
else
	not_ok "flood replay: per bucket, interface and host totals equal the generator's"
	diff "$WORK/want.sorted" "$WORK/got.sorted" | head -6 | sed 's/^/# /'
fi
# The law, per bucket, with the generator's both-local count.
bad=$(awk -F, 'NR == FNR { if (FNR > 1) both[$1] = $5; next }
    $2 != $9 - both[$1] + $7 + $6 + $8 { print $1 }' \
    "$dir/host_totals_by_interval.csv" "$WORK/replay.rows")
check "flood replay: frames = host rows - both-local + transit + non-IP + malformed, every bucket" \
    test -z "$bad" -a -s "$WORK/replay.rows"

# --- live: two namespaces, the tables overflow ---
if ! netns_usable; then
	cannot_run "live flood in network namespaces" "needs root and ip netns"
	check "store stops cleanly on SIGTERM" stop_store
	done_testing; exit
fi
NSA=nt-fa-$$ NSB=nt-fb-$$ VA=nfa$$ VB=nfb$$
AGENT_PID=
if ! netns_quiet "$NSA" "$NSB" || ! veth_pair "$NSA" "$VA" "$NSB" "$VB"; then
	not_ok "veth pair for the live flood set up"
	done_testing; exit 1
fi

# live NAME PACKETS AGENT-ARGS...: a pure flood (no both-local packets,
# so the law needs no count from outside), sent flat out.
live() {
	name=$1 n=$2; shift 2
	# shellcheck disable=SC2086
	ip netns exec "$NSB" "$REL_AGENT" -s "$SOCK" $nets --name "$name" \
	    -i "$VB" --resolution 60 "$@" 2>"$WORK/$name.err" &
	AGENT_PID=$!
	wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = '$name'\")\" = 1 ]" 100 ||
	    { not_ok "$name: agent registers"; sed 's/^/# /' "$WORK/$name.err"; return 1; }
	ip netns exec "$NSA" "$NT_GEN" --send "$VA" --packets "$n" --flood 100 \
	    --size 64 --local-hosts 1000 --seed 43 ||
	    not_ok "$name: generator sends $n frames"
	# The peak so far (VmHWM), then SIGTERM: the agent exits only once
	# the store has acknowledged everything it counted.
	sleep 1
	kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
	term_agent
	check "$name: agent exits 0 on SIGTERM" test $rc -eq 0
	frames=$(sql "SELECT COALESCE(sum(frames), 0) FROM interface_traffic WHERE agent = '$name'")
	drops=$(sql "SELECT COALESCE(sum(kernel_drops), 0) + COALESCE(sum(iface_drops), 0) FROM agent_health WHERE agent = '$name'")
	check "$name: frames counted + kernel drops = frames sent ($frames + $drops = $n)" \
	    test $((frames + drops)) -eq "$n"
	per_bucket "$name" >"$WORK/$name.rows"
	bad=$(awk -F, '$2 != $9 + $7 + $6 + $8 || $2 != $4 + $5 + $6 + $8 { print $1 }' "$WORK/$name.rows")
	check "$name: frames = host rows + transit + non-IP + malformed, every bucket" \
	    test -z "$bad" -a -s "$WORK/$name.rows"
	check "$name: peak RSS ${kb} KiB under ${FLOOD_RSS_KB} KiB" \
	    test "${kb:-999999999}" -lt "$FLOOD_RSS_KB"
}

live flood_small 1000000 --max-hosts 16 --max-ports 16 --max-peers 16
ovf=$(sql "SELECT count(*) FROM peer_traffic WHERE agent = 'flood_small' AND family = 'overflow'")
ovh=$(sql "SELECT COALESCE(sum(overflow), 0) FROM agent_health WHERE agent = 'flood_small'")
check "flood_small: overflow rows present ($ovf rows, $ovh overflowed keys)" \
    test "$ovf" -gt 0 -a "$ovh" -gt 0

check "store stops cleanly on SIGTERM" stop_store
done_testing
