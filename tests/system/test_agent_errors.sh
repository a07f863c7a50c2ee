#!/bin/sh
# Every agent failure is one clear line on stderr and a non-zero exit.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
"$NT_GEN" -o "$WORK/in.pcap" --packets 100 >/dev/null

# fails DESC PATTERN ARGS...: exit 1, exactly one stderr line matching.
fails() {
	desc=$1 pat=$2; shift 2
	"$NT_BIN/nettally-agent" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$WORK/err")" -eq 1 ] &&
	    grep -q -- "$pat" "$WORK/err"; then
		ok "$desc"
	else
		not_ok "$desc (rc $rc)"
		sed 's/^/# /' "$WORK/err"
	fi
}

if [ "$(id -u)" = 0 ]; then
	fails "no such interface" "nosuch0: no such interface" \
	    -s "$SOCK" -i nosuch0 -n 10.0.0.0/8 --exit-on-error
else
	cannot_run "no such interface" "needs root to open a capture"
fi
# A user without CAP_NET_RAW: the message names that capability and
# how to give it, and no other (CAP_NET_ADMIN was named, never needed).
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	    "$NT_BIN/nettally-agent" -s "$SOCK" -i lo -n 10.0.0.0/8 \
	    --exit-on-error >"$WORK/out" 2>"$WORK/err"
	rc=$?
	check "capture without CAP_NET_RAW: exit 1, names CAP_NET_RAW and setcap only (exit $rc)" \
	    sh -c "[ $rc -eq 1 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] &&
	    grep -q 'lo: permission denied: capturing needs CAP_NET_RAW.*setcap cap_net_raw+ep' '$WORK/err' &&
	    ! grep -q NET_ADMIN '$WORK/err'"
	sed 's/^/# /' "$WORK/err"
else
	cannot_run "capture without CAP_NET_RAW" "needs root and setpriv"
fi
fails "bad filter" 'bad filter "tcp and and"' -s "$SOCK" -r "$WORK/in.pcap" tcp and and
fails "store unreachable, the store named" "store $WORK/nostore.sock: store unreachable" \
    -s "$WORK/nostore.sock" -r "$WORK/in.pcap"
# A socket the agent may not write: the error names the uid it runs as
# (a root agent's is its --user, nettally by default) and what lets it in.
if [ "$(id -u)" = 0 ]; then
	want_uid=$(id -u nettally)
else
	want_uid=$(id -u)
fi
chmod 0000 "$SOCK"
fails "socket not writable: the agent's uid and the store's options" \
    "store $SOCK: permission denied: this agent runs as uid $want_uid .*--socket-group" \
    -s "$SOCK" -r "$WORK/in.pcap"
chmod 0666 "$SOCK"
# "any" holds every interface's frames: beside another -i, that one's
# were counted twice, under both names.
# Refused before any capture opens: no root needed, and no interface.
fails "-i any with another interface" \
    "^nettally-agent: -i any captures every interface already: with -i nosuch0, its frames would count twice" \
    -s "$SOCK" -i nosuch0 -i any --exit-on-error
fails "  ... in either order" "with -i nosuch0, its frames would count twice" \
    -s "$SOCK" -i any -i nosuch0 --exit-on-error
# An empty path was tried as a socket and read as a store not running.
fails "an empty --socket" "^nettally-agent: --socket: empty path" \
    -s "" -r "$WORK/in.pcap"
fails "missing capture file" "$WORK/missing.pcap" -s "$SOCK" -r "$WORK/missing.pcap"
printf 'not a capture file at all' >"$WORK/garbage.pcap"
# libpcap's words alone ("unknown file format", "error reading dump
# file: Is a directory") named neither -r nor what it takes.
fails "not a capture file: what -r takes" \
    "garbage.pcap: not a capture file libpcap reads (unknown file format); -r takes a pcap or pcapng file" \
    -s "$SOCK" -r "$WORK/garbage.pcap"
fails "a directory: what -r takes" \
    "$WORK: is a directory; -r takes a pcap or pcapng file" \
    -s "$SOCK" -r "$WORK"
# The modified tcpdump format's magic on a file libpcap then misreads (a
# plain pcap relabelled, as Nokia, Red Hat 6.1 and SuSE 6.3 tcpdump files
# are read): the error says what the file may be and how to convert it.
cp "$WORK/in.pcap" "$WORK/modified.pcap"
printf '\064\315\262\241' | dd of="$WORK/modified.pcap" conv=notrunc 2>/dev/null
"$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/modified.pcap" >"$WORK/out" \
    2>"$WORK/err"
rc=$?
check "a misread modified-format file: exit 1, how to convert it (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'modified tcpdump header.*editcap -F pcap' '$WORK/err'"
# A pcapng file whose interfaces differ in link type (as dumpcap writes
# one captured on eth0 and lo): libpcap refuses it, in words that give no
# rule; the error adds the rule and what to replay instead.
python3 - "$WORK/two_types.pcapng" <<'EOF'
import struct, sys
def blk(kind, body):
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack('<II', kind, n) + body + struct.pack('<I', n)
shb = blk(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
def idb(linktype): return blk(1, struct.pack('<HHI', linktype, 0, 65535))
epb = blk(6, struct.pack('<IIIII', 0, 0, 0, 60, 60) + bytes(60))
open(sys.argv[1], 'wb').write(shb + idb(1) + idb(101) + epb)
EOF
fails "pcapng of two link types: libpcap's cause, the rule, what to replay" \
    "two_types.pcapng: an interface has a type 101 different .*only while all of its interfaces have one link type.*dumpcap -i IFACE" \
    -s "$SOCK" -r "$WORK/two_types.pcapng"
# One link type, two snapshot lengths: what mergecap writes by default
# from a tcpdump capture (262144) and an older one (65535).  libpcap
# refuses it as well, but editcap -F pcap rewrites it as one classic
# pcap file that libpcap reads whole: the error names that way out.
python3 - "$WORK/two_snaplens.pcapng" <<'EOF'
import struct, sys
def blk(kind, body):
    n = 12 + len(body)
    return struct.pack('<II', kind, n) + body + struct.pack('<I', n)
shb = blk(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
def idb(snaplen): return blk(1, struct.pack('<HHI', 1, 0, snaplen))
def epb(ifid): return blk(6, struct.pack('<IIIII', ifid, 0, 0, 60, 60) + bytes(60))
open(sys.argv[1], 'wb').write(shb + idb(65535) + idb(262144) + epb(0) + epb(1))
EOF
fails "pcapng of two snapshot lengths: libpcap's cause, the rule, editcap -F pcap" \
    "two_snaplens.pcapng: an interface has a snapshot length 262144 different .*only while all of its interfaces have one snapshot length.*editcap -F pcap FILE NEW" \
    -s "$SOCK" -r "$WORK/two_snaplens.pcapng"
# Two pcapng files of hosts of each byte order, joined with cat (a
# pcapng file may hold several sections): tshark reads both, libpcap
# 1.10 reads the second section's header in the first one's byte order,
# and says only "pcapng block size 469762048 > maximum 16777216".  The
# first section's 3 frames count; the error says where the other byte
# order begins and how to rewrite the file.
python3 - "$WORK/two_orders.pcapng" <<'EOF'
import struct, sys
def section(e, nframes):
    def blk(kind, body):
        n = 12 + len(body)
        return struct.pack(e + 'II', kind, n) + body + struct.pack(e + 'I', n)
    out = blk(0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1))
    out += blk(1, struct.pack(e + 'HHI', 1, 0, 65535))
    for i in range(nframes):
        out += blk(6, struct.pack(e + 'IIIII', 0, 0, i, 60, 60) + bytes(60))
    return out
open(sys.argv[1], 'wb').write(section('<', 3) + section('>', 2))
EOF
agent -r "$WORK/two_orders.pcapng" --name two_orders >"$WORK/out" 2>"$WORK/err"
rc=$?
check "pcapng sections of two byte orders: exit 1, where and how to rewrite it (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'two_orders.pcapng: pcapng block size [0-9]* > maximum [0-9]* (at byte 324 a section in the other byte order begins, which libpcap cannot read: editcap -F pcapng' '$WORK/err'"
[ "$rc" = 1 ] && grep -q 'other byte order' "$WORK/err" || sed 's/^/# /' "$WORK/err"
check "... the first section's 3 frames counted" \
    test "$(sql "SELECT sum(frames) FROM interface_traffic WHERE agent = 'two_orders'")" = 3
fails "-i and -r together" "exclude each other" -i lo -r "$WORK/in.pcap"
fails "bad resolution" "--resolution" --resolution 0 -r "$WORK/in.pcap"
# strtol skipped blanks and took a sign: " 60" and "+60" were 60.
for v in ' 60' '+60' '-1'; do
	fails "--resolution '$v': a digit first" \
	    "^nettally-agent: --resolution: \"$v\" is not a number from 1 to 86400$" \
	    --resolution "$v" -r "$WORK/in.pcap"
done
fails "--max-hosts=+100: a digit first" \
    '^nettally-agent: --max-hosts: "+100" is not a number from 16' \
    --max-hosts=+100 -r "$WORK/in.pcap"
fails "bad CIDR" "-n 10.0.0.0/33" -n 10.0.0.0/33 -r "$WORK/in.pcap"
# -n takes a list too: a bad element is named, an empty list refused.
fails "a bad network in an -n list is named" \
    '^nettally-agent: -n 10.0.0.0/8,fd00::/129: fd00::/129: bad prefix length$' \
    -n 10.0.0.0/8,fd00::/129 -r "$WORK/in.pcap"
fails "an -n list with no network in it" '^nettally-agent: -n ",": no network in it$' \
    -n , -r "$WORK/in.pcap"
"$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/in.pcap" \
    -n "10.1.0.0/16, fd00:1::/64" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "an -n list, commas and blanks: counted, both networks local (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'local networks 10.1.0.0/16 fd00:1::/64,' '$WORK/err'"
# A table cap names its option, whether its value is a word of its own
# or follows "=".
fails "bad --max-hosts names the option" \
    '^nettally-agent: --max-hosts: "1" is not a number from 16' \
    --max-hosts 1 -r "$WORK/in.pcap"
fails "bad --max-ports names the option" \
    '^nettally-agent: --max-ports: "x" is not a number' \
    --max-ports x -r "$WORK/in.pcap"
fails "bad --max-peers=N names the option" \
    '^nettally-agent: --max-peers: "5" is not a number' \
    --max-peers=5 -r "$WORK/in.pcap"
# A name the store would refuse is refused up front, saying what a name
# may hold; a comma or a quote is fine, a tab is not.
fails "--name with a tab: refused, saying what a name may hold" \
    '^nettally-agent: --name: must be 1 to 128 bytes, any but control characters' \
    -s "$SOCK" -r "$WORK/in.pcap" --name "$(printf 'we,ird"name\ttab')"
fails "-i with a newline: refused, saying what a name may hold" \
    '^nettally-agent: -i: an interface name is 1 to 64 bytes, none a control' \
    -s "$SOCK" -i "$(printf 'eth0\nx')" -n 10.0.0.0/8 --exit-on-error
agent -r "$WORK/in.pcap" --name 'we,ird"name' 2>"$WORK/err"
rc=$?
check "--name with a comma and a quote: accepted (exit $rc)" \
    test "$rc" = 0 -a "$(sql "SELECT count(*) FROM agent WHERE name = 'we,ird\"name'")" = 1
# A capture file whose name holds a tab: the interface name made from it
# holds '_' instead, and so does the agent name made from it.
tabfile="$WORK/$(printf 'cap\ttab').pcap"
cp "$WORK/in.pcap" "$tabfile"
agent -r "$tabfile" --name tabfile 2>"$WORK/err"
rc=$?
check "a file name with a tab is replayed (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/err"
check "... counted under the interface name cap_tab.pcap" \
    test "$(sql "SELECT count(*) FROM interface_traffic
    WHERE agent = 'tabfile' AND iface = 'cap_tab.pcap'")" -gt 0
agent -r "$tabfile" 2>"$WORK/err"
rc=$?
check "... and without --name, as HOST:cap_tab.pcap (exit $rc)" \
    test "$rc" = 0 -a "$(sql "SELECT count(*) FROM agent
    WHERE name LIKE '%:cap_tab.pcap'")" = 1
# An error of sender_new that is about the spool, not the store: no
# socket path in front of it.  The directory is one the agent's user
# cannot write into.
mkdir -m 0555 "$WORK/rospool"
fails "an unwritable spool: the error is the spool's, without the socket" \
    "^nettally-agent: cannot create the spool file $WORK/rospool/" \
    -s "$SOCK" -r "$WORK/in.pcap" --spool "$WORK/rospool"

"$NT_BIN/nettally-agent" --help >"$WORK/out" 2>&1
check "--help exits 0 and documents -i, -r, -n, -s" \
    sh -c "[ $? -eq 0 ] && grep -q -- '-i, --interface' '$WORK/out' &&
    grep -q -- '-r, --read' '$WORK/out' && grep -q -- '-n, --local' '$WORK/out' &&
    grep -q -- '-s, --socket' '$WORK/out'"
"$NT_BIN/nettally-agent" --version >"$WORK/out" 2>&1
check "--version prints the version" grep -q '^nettally-agent [0-9]' "$WORK/out"

# A filter is applied: only UDP counted.
agent -r "$WORK/in.pcap" --name filtered udp 2>/dev/null
all=$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'filtered' AND proto <> 17")
udp=$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'filtered' AND proto = 17")
check "a BPF filter limits what is counted (non-UDP rows: $all)" test "$all" = 0 -a "$udp" -gt 0
check "store stops cleanly on SIGTERM" stop_store
done_testing
