#!/bin/sh
# Capture files the agent must still count exactly: one cut mid-record
# (everything before the cut counted, the damage reported naming the file,
# exit 1), one captured with a 96-byte snapshot length (the same totals as
# the full capture in every view), a replay with tiny table caps (many
# more batches, the same rows: a replay waits for the sender, never
# overflows), a file of a link type it does not decode (every frame
# counted, as non-IP), capture times past 2038 or out of the range a
# store keeps (every frame counted), a replay whose traffic is all transit
# (said, with the local networks), and a long replay's progress lines.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
# Recent times: the store rolls rows older than its raw retention up out
# of the per-bucket views.
T0=$(($(date +%s) / 60 * 60 - 7200))

# views AGENT OUT: every view, whole run and per bucket, into OUT.*.
views() {
	db_hosts "$1" >"$2.h"
	db_ports "$1" >"$2.o"
	db_peers "$1" >"$2.p"
	db_hosts_by_interval "$1" >"$2.hi"
	db_ports_by_interval "$1" >"$2.oi"
	db_peers_by_interval "$1" >"$2.pi"
	db_iface "$1" >"$2.i"
	db_iface_by_interval "$1" >"$2.ii"
}
# same_as_gen WHAT OUT EXPDIR: every view against the generator's files.
same_as_gen() {
	bad=""
	for v in h:hosts o:ports p:peers hi:hosts_by_interval \
	    oi:ports_by_interval pi:peers_by_interval i:interface \
	    ii:interface_by_interval; do
		same_rows "$3/${v#*:}.csv" "$2.${v%%:*}" || bad="$bad ${v#*:}"
	done
	if [ -z "$bad" ]; then
		ok "$1: every view equals the generator's count"
	else
		not_ok "$1: views differ from the generator's:$bad"
	fi
}

# --- a file cut mid-record ---
# The first 600 records of a 1000-frame file spread over 1000 s are the
# frames of a 600-frame file spread over 600 s (same model, same times),
# so the short file is a prefix of the long one; the cut falls 50 bytes
# into the 601st record.
"$NT_GEN" -o "$WORK/full.pcap" --packets 1000 --duration 1000 --mix \
    --size 64 --seed 51 --start "$T0" >/dev/null
"$NT_GEN" -o "$WORK/first600.pcap" -e "$WORK/e600" --packets 600 \
    --duration 600 --mix --size 64 --seed 51 --interval 60 --start "$T0" \
    >/dev/null
len=$(wc -c <"$WORK/first600.pcap")
head -c "$len" "$WORK/full.pcap" | cmp -s - "$WORK/first600.pcap"
check "generator: the first 600 records of the long file are the short file" \
    test $? -eq 0
head -c $((len + 50)) "$WORK/full.pcap" >"$WORK/cut.pcap"
nets=$(local_nets "$WORK/e600")
# shellcheck disable=SC2086
agent -r "$WORK/cut.pcap" $nets --name cut --resolution 60 2>"$WORK/cut.err"
rc=$?
check "cut file: agent exits non-zero ($rc)" test $rc -ne 0
check "cut file: the message names the file and the damage" \
    grep -q "cut.pcap: .*truncated" "$WORK/cut.err"
views cut "$WORK/cut"
same_as_gen "cut file (600 whole records counted)" "$WORK/cut" "$WORK/e600"

# --- snaplen 96 against the full capture ---
"$NT_GEN" -o "$WORK/s_full.pcap" -e "$WORK/es" --packets 30000 --mix \
    --size imix --seed 52 --interval 60 --start "$T0" >/dev/null
"$NT_GEN" -o "$WORK/s_96.pcap" --packets 30000 --mix --size imix \
    --seed 52 --snaplen 96 --start "$T0" >/dev/null
big=$(wc -c <"$WORK/s_full.pcap") small=$(wc -c <"$WORK/s_96.pcap")
check "the -s 96 capture is cut ($small of $big bytes)" test "$small" -lt "$big"
for f in s_full s_96; do
	# shellcheck disable=SC2086
	agent -r "$WORK/$f.pcap" $nets --name "$f" --resolution 60 \
	    2>"$WORK/$f.err" || not_ok "$f: agent exits 0"
	views "$f" "$WORK/$f"
done
same_as_gen "full capture" "$WORK/s_full" "$WORK/es"
same_as_gen "snaplen 96" "$WORK/s_96" "$WORK/es"
bad=""
for v in h o p hi oi pi i ii; do
	cmp -s "$WORK/s_full.$v" "$WORK/s_96.$v" || bad="$bad $v"
done
check "snaplen 96 and full capture: every view identical${bad:+ (differ:$bad)}" \
    test -z "$bad"

# --- a link type the agent does not decode: every frame still counts ---
# The snaplen-96 capture relabelled IEEE 802.11 (link type 105, bytes 20
# to 23 of the file header, little-endian): libpcap reads its frames as
# 802.11, and DESIGN rule 1 counts every one of them, all as non-IP.
cp "$WORK/s_96.pcap" "$WORK/wlan.pcap"
printf '\151\000\000\000' |
    dd of="$WORK/wlan.pcap" bs=1 seek=20 conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
agent -r "$WORK/wlan.pcap" $nets --name wlan --resolution 60 \
    2>"$WORK/wlan.err"
rc=$?
check "undecoded link type: agent exits 0 ($rc)" test $rc -eq 0
check "undecoded link type: a warning names the file and the type" \
    grep -q "wlan.pcap: link type 105 (IEEE802_11) is not decoded" \
    "$WORK/wlan.err"
want=$(awk -F, 'NR == 2 { print $1 "," $2 ",0,0," $1 ",0,0" }' \
    "$WORK/es/interface.csv")
got=$(db_iface wlan)
check "undecoded link type: every frame and byte counted, as non-IP ($got)" \
    test -n "$got" -a "$got" = "$want"
rows=$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'wlan'")
check "undecoded link type: no host rows ($rows)" test "$rows" = 0

# --- capture times past 2038 and out of range: every frame counts ---
# A classic pcap holds unsigned 32-bit seconds, which libpcap 1.10 hands
# over sign-extended: these frames straddle 2^31 s (2038-01-19), and the
# batch holding them was dropped whole.  Every view, per bucket too.
"$NT_GEN" -o "$WORK/y2038.pcap" -e "$WORK/ey" --packets 3000 --mix \
    --size 64 --seed 53 --start 2147483400 --duration 600 --interval 60 \
    >/dev/null
# shellcheck disable=SC2086
agent -r "$WORK/y2038.pcap" $(local_nets "$WORK/ey") --name y2038 \
    --resolution 60 2>"$WORK/y2038.err"
rc=$?
check "times across 2^31 s: agent exits 0 ($rc)" test $rc -eq 0
views y2038 "$WORK/y2038"
same_as_gen "times across 2^31 s" "$WORK/y2038" "$WORK/ey"
# arp_pcapng FILE TSOFFSET SECONDS...: a pcapng of one Ethernet interface
# (with if_tsoffset TSOFFSET, seconds added to every time, when not 0)
# holding a 60-byte ARP frame at each of SECONDS, in microseconds.
arp_pcapng() {
	python3 - "$@" <<'X'
import struct, sys
def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)
path, tsoffset, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
opts = b""
if tsoffset != 0:       # if_tsoffset (14), then opt_endofopt
    opts = struct.pack("<HHq", 14, 8, tsoffset) + struct.pack("<HH", 0, 0)
out += block(1, struct.pack("<HHI", 1, 0, 0) + opts)
frame = bytes(12) + b"\x08\x06" + bytes(46)          # ARP, 60 bytes
for sec in secs:
    us = int(sec) * 1000000
    out += block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xffffffff,
                                len(frame), len(frame)) + frame)
open(path, "wb").write(out)
X
}
# A pcapng (64-bit microseconds) with two times past the year 9999,
# which no store keeps, between two ordinary ones: all four frames
# count, those two in the range's last bucket, said once.
arp_pcapng "$WORK/range.pcapng" 0 1700000000 1099511627776 2199023255552 \
    1700000001
agent -r "$WORK/range.pcapng" -n 10.0.0.0/8 --name range --resolution 60 \
    2>"$WORK/range.err"
rc=$?
check "times out of range: agent exits 0 ($rc)" test $rc -eq 0
n=$(grep -c "outside the years 1970 to 9999" "$WORK/range.err")
check "times out of range: said once ($n)" test "$n" = 1
got=$(sql "SELECT bucket, sum(frames) FROM interface_traffic
    WHERE agent = 'range' GROUP BY bucket" | tr '\n' ' ')
check "times out of range: 4 frames, 2 in 9999's last bucket ($got)" \
    test "$got" = "1699999980,2 253402300740,2 "
# A pcapng time is 64-bit: one before 1970 (here an interface's
# if_tsoffset of -1 day puts two frames on 1969-12-31) is not a classic
# pcap's sign-extended 32-bit second, to be read as one after 2038: it is
# clamped to 0 like any time out of range.
arp_pcapng "$WORK/pre1970.pcapng" -86400 10 20
agent -r "$WORK/pre1970.pcapng" -n 10.0.0.0/8 --name pre1970 \
    --resolution 60 2>"$WORK/pre1970.err"
rc=$?
check "pcapng times before 1970: agent exits 0 ($rc)" test $rc -eq 0
check "pcapng times before 1970: said" \
    grep -q "capture time -86390 is outside the years 1970 to 9999" \
    "$WORK/pre1970.err"
got=$(sql "SELECT bucket, sum(frames) FROM interface_traffic
    WHERE agent = 'pre1970' GROUP BY bucket" | tr '\n' ' ')
check "pcapng times before 1970: 2 frames, in bucket 0 ($got)" \
    test "$got" = "0,2 "

# --- tiny caps on a replay: more batches, the same rows ---
# shellcheck disable=SC2086
agent -r "$WORK/s_full.pcap" $nets --name caps --resolution 60 \
    --max-hosts 16 --max-ports 16 --max-peers 16 2>"$WORK/caps.err" ||
    not_ok "caps: agent exits 0"
views caps "$WORK/caps"
same_as_gen "replay with 16-key tables" "$WORK/caps" "$WORK/es"
batches=$(sql "SELECT last_seq FROM agent WHERE name = 'caps'")
ovf=$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'caps' AND family = 'overflow'")
# With the default caps this file makes one batch; with 16 keys a
# table, hundreds (994 when the tables fill to their cap, more when
# packets pending in the push ring make the agent flush earlier).
check "replay with 16-key tables: many batches ($batches), no overflow row ($ovf)" \
    test "$batches" -gt 500 -a "$ovf" -eq 0

# --- transit: the closing line counts it; all of it is a warning ---
# The capture with its own local networks: the closing line gives the
# generator's transit count, and no warning.  With -n a network none of
# its hosts is in: every IP packet is transit and no host row is
# written, which the agent says, listing the local networks, as the
# start-up line does.
"$NT_GEN" -o "$WORK/tr.pcap" -e "$WORK/etr" --packets 2000 --mix --seed 57 \
    >/dev/null
IFS=, read -r fr _ v4 v6 _ tr _ <<EOF
$(tail -n 1 "$WORK/etr/interface.csv")
EOF
# shellcheck disable=SC2086
agent -r "$WORK/tr.pcap" $(local_nets "$WORK/etr") --name tr-local \
    2>"$WORK/tr-local.err"
rc=$?
check "transit: a replay with local hosts exits 0 ($rc)" test $rc -eq 0
check "transit: ... its closing line gives the transit count ($tr)" \
    grep -q "tr.pcap: $fr frames counted and delivered, $tr IP packets of them transit" \
    "$WORK/tr-local.err"
check "transit: ... and no warning" \
    sh -c "! grep -q 'not one of' '$WORK/tr-local.err'"
agent -r "$WORK/tr.pcap" -n 192.0.2.0/24 --name tr-none 2>"$WORK/tr-none.err"
rc=$?
check "transit: a replay with no local host still exits 0 ($rc)" test $rc -eq 0
check "transit: ... the start-up line lists the local networks" \
    grep -q "counting as \"tr-none\" .* local networks 192.0.2.0/24, store" \
    "$WORK/tr-none.err"
ip=$((v4 + v6))
check "transit: ... its closing line counts all $ip IP packets as transit" \
    grep -q "tr.pcap: $fr frames counted and delivered, $ip IP packets of them transit" \
    "$WORK/tr-none.err"
check "transit: ... a warning says none was local and to check -n" \
    grep -q "tr.pcap: not one of $ip IP packets had an address in the local networks.*check -n (local networks: 192.0.2.0/24)" \
    "$WORK/tr-none.err"
grep -q 'not one of' "$WORK/tr-none.err" || sed 's/^/# /' "$WORK/tr-none.err"
got=$(sql "SELECT sum(transit_packets) FROM interface_traffic
    WHERE agent = 'tr-none'")
check "transit: ... as the store has it ($got)" test "$got" = "$ip"

# --- progress: a replay held up by a stopped store says how far it is ---
# Small tables and queue keep the agent within a MiB of the store, so it
# waits mid-file while the store is stopped, whatever the machine's speed.
"$NT_GEN" -o "$WORK/prog.pcap" --packets 300000 --size 64 --seed 5 \
    --local-hosts 1000 --remote-hosts 50000 --flows 50000 --duration 120 \
    >/dev/null || not_ok "progress: generator ran"
for p in 1 0; do
	agent -r "$WORK/prog.pcap" -n 10.1.0.0/16 --name "prog$p" \
	    --progress $p --max-queue-mb 1 --max-hosts 1000 \
	    --max-ports 1000 --max-peers 1000 2>"$WORK/prog$p.err" &
	AGENT_PID=$!
	wait_for "grep -q 'counting as' '$WORK/prog$p.err'" 100
	kill -STOP "$STORE_PID"
	sleep 2
	kill -CONT "$STORE_PID"
	reap_agent
	check "progress $p: agent exits 0 ($rc)" test "$rc" -eq 0
	n=$(grep -c "prog.pcap: [0-9]* frames read so far, [0-9]* % of the file" \
	    "$WORK/prog$p.err")
	if [ "$p" = 1 ]; then
		check "--progress 1: a stall of 2 s gives a progress line ($n)" \
		    test "$n" -ge 1
	else
		check "--progress 0: no progress line ($n)" test "$n" = 0
	fi
	got=$(sql "SELECT sum(frames) FROM interface_traffic
	    WHERE agent = 'prog$p'")
	check "progress $p: every frame counted ($got)" test "$got" = 300000
done

check "store stops cleanly on SIGTERM" stop_store
done_testing
