#!/bin/sh
# test_metrics.sh - nettally-stored --metrics: curl gets valid Prometheus
# text whose counters equal the database's sums.
#
# A store with --metrics on a free loopback port takes a replay from two
# agents; then the exposition text is checked line by line
# (metrics_check.py) and every agent and interface counter is compared
# with SUM() over agent_health and interface_traffic, and the store's
# committed batches with the batch table.
. "$(dirname "$0")/lib.sh"

if ! command -v curl > /dev/null 2>&1; then
	cannot_run "metrics endpoint" "curl is missing (apt-get install curl)"
	done_testing
	exit
fi
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
STORE_ARGS="--metrics 127.0.0.1:$port"
start_store || { not_ok "the store starts with --metrics"; done_testing; exit 1; }
check "it says where the metrics are" \
    grep -q "metrics: serving http://127.0.0.1:$port/metrics" "$WORK/store.log"

url=http://127.0.0.1:$port/metrics
curl -sS -f -o "$WORK/m0.txt" -D "$WORK/h0.txt" "$url"
check "an empty store answers 200" test $? -eq 0
check "  with the exposition content type" grep -qi \
    '^Content-Type: text/plain; version=0.0.4' "$WORK/h0.txt"
python3 tests/system/metrics_check.py "$WORK/m0.txt" > "$WORK/samples0"
check "  valid exposition text" test $? -eq 0
check "  the store's health is there" grep -qx \
    'nettally_store_batches_committed_total{} 0' "$WORK/samples0"

for a in one two; do
	mkdir -p "$WORK/$a"
	seed=41; [ $a = two ] && seed=42
	"$NT_GEN" -o "$WORK/$a/in.pcap" -e "$WORK/$a" --packets 30000 --mix \
	    --seed $seed > /dev/null
done
nets=$(local_nets "$WORK/one")
# shellcheck disable=SC2086
agent -r "$WORK/one/in.pcap" $nets --name 'one "quoted"\agent' \
    --flush 50 2> "$WORK/one/err" &
p1=$!
# shellcheck disable=SC2086
agent -r "$WORK/two/in.pcap" $nets --name two --flush 50 \
    2> "$WORK/two/err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "both agents exit 0" test $r1 -eq 0 -a $r2 -eq 0

curl -sS -f -o "$WORK/m1.txt" "$url"
check "after the agents: 200" test $? -eq 0
python3 tests/system/metrics_check.py "$WORK/m1.txt" > "$WORK/samples" \
    2> "$WORK/check.err"
check "valid exposition text (label values escaped)" test $? -eq 0
sed 's/^/# /' "$WORK/check.err"

# The database's sums in the same form, label values escaped the same way.
esc="replace(replace(agent, '\\', '\\\\'), '\"', '\\\"')"
{
sql "SELECT 'nettally_agent_captured_frames_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(captured) FROM agent_health GROUP BY agent, iface"
sql "SELECT 'nettally_agent_kernel_drops_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(kernel_drops) FROM agent_health GROUP BY agent, iface"
sql "SELECT 'nettally_agent_malformed_frames_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(malformed) FROM agent_health GROUP BY agent, iface"
sql "SELECT 'nettally_interface_frames_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(frames) FROM interface_traffic GROUP BY agent, iface"
sql "SELECT 'nettally_interface_frame_bytes_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(frame_bytes) FROM interface_traffic GROUP BY agent, iface"
sql "SELECT 'nettally_interface_ipv6_packets_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(ipv6_packets) FROM interface_traffic GROUP BY agent, iface"
sql "SELECT 'nettally_interface_transit_packets_total{agent=\"' || $esc || '\",iface=\"' || iface || '\"} ' || SUM(transit_packets) FROM interface_traffic GROUP BY agent, iface"
sql "SELECT 'nettally_store_batches_committed_total{} ' || count(*) FROM batch"
} | sed 's/^"//; s/"$//; s/""/"/g' | sort > "$WORK/want"
grep -E '^nettally_(agent_(captured_frames|kernel_drops|malformed_frames)|interface_(frames|frame_bytes|ipv6_packets|transit_packets)|store_batches_committed)_total' \
    "$WORK/samples" | sort > "$WORK/got"
if [ "$(wc -l < "$WORK/want")" -eq 15 ] && cmp -s "$WORK/want" "$WORK/got"
then
	ok "counters equal the database's sums (2 agents, 7 families, batches)"
else
	not_ok "counters equal the database's sums (2 agents, 7 families, batches)"
	diff "$WORK/want" "$WORK/got" | head -20 | sed 's/^/# /'
fi
# And the frames equal the generator's own count, independently of SQL.
frames=$(awk -F, 'NR == 2 { print $1 }' "$WORK/two/interface.csv")
check "interface frames of agent two == the generator's count ($frames)" \
    grep -qx "nettally_interface_frames_total{agent=\"two\",iface=\"[^\"]*\"} $frames" \
    "$WORK/samples"

curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other" \
    > "$WORK/code"
check "another path is 404" test "$(cat "$WORK/code")" = 404
curl -s -o /dev/null -w '%{http_code}' -X POST "$url" > "$WORK/code"
check "POST is 405" test "$(cat "$WORK/code")" = 405
# A NUL byte hid the end of the head from the parser: no reply, and the
# connection held for the 10 s timeout.
printf 'GET /metrics\000 HTTP/1.0\r\n\r\n' | timeout 5 curl -s \
    --max-time 4 -o "$WORK/nul" -w '%{http_code}' "telnet://127.0.0.1:$port" \
    >/dev/null 2>&1
check "a NUL byte in the request is a 400 at once" \
    grep -q '^HTTP/1.1 400 Bad Request' "$WORK/nul"

# Every slot held by a connection that sends nothing (a port scanner, a
# TCP health check) made a real scrape wait out their 10 s timeout, the
# length of Prometheus's own scrape timeout.  Now a connection arriving
# with every slot taken closes the oldest silent one: the scrape is
# answered at once, and silent connections go oldest first, long before
# their timeout, one for each newcomer.
nmax=$(sed -n 's/^#define METRICS_CLIENTS_MAX[[:space:]]*\([0-9]*\).*/\1/p' \
    stored/metrics.h)
python3 - "$port" "$nmax" "$WORK" > "$WORK/idle.out" 2>&1 <<'EOF_PY'
import socket
import subprocess
import sys
import time

port, n, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = time.monotonic()


def connect(k):
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(k)]


def closed(s, wait):
    """True when the store closed s: EOF (or a reset) within wait s."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionError:
        return True


def scrape(i):
    t = time.monotonic()
    r = subprocess.run(["curl", "-sS", "--max-time", "3", "-o",
                        "%s/idle%d.txt" % (work, i), "-w", "%{http_code}",
                        "http://127.0.0.1:%d/metrics" % port],
                       capture_output=True, text=True)
    took = time.monotonic() - t
    print("# scrape %d: %s in %.3f s" % (i, r.stdout or r.stderr, took))
    return "ok" if r.stdout == "200" and took < 3 else "FAILED"


def yes(b):
    return "yes" if b else "no"


first = connect(n)
print("first scrape:", scrape(0))
print("oldest closed:", yes(closed(first[0], 2)))
print("others open:", yes(not any(closed(s, 0.1) for s in first[1:])))
# n more: the first takes the scrape's freed slot, each other one closes
# the oldest of the first wave.
second = connect(n)
print("first wave closed:", yes(all(closed(s, 2) for s in first[1:])))
print("second wave open:", yes(not any(closed(s, 0.1) for s in second)))
print("second scrape:", scrape(1))
print("its oldest closed:", yes(closed(second[0], 2)))
print("within 5 s:", yes(time.monotonic() - start < 5))
EOF_PY
sed -n 's/^# //p' "$WORK/idle.out" | sed 's/^/# /'
check "$nmax silent connections: a scrape is 200 within 3 s" \
    grep -qx 'first scrape: ok' "$WORK/idle.out"
check "  the store closed the oldest silent connection for it" \
    grep -qx 'oldest closed: yes' "$WORK/idle.out"
check "  and only that one" grep -qx 'others open: yes' "$WORK/idle.out"
check "  $nmax more: each closes the oldest, the whole first wave goes" \
    grep -qx 'first wave closed: yes' "$WORK/idle.out"
check "  and the second stays" grep -qx 'second wave open: yes' \
    "$WORK/idle.out"
check "  a scrape is again 200 within 3 s" \
    grep -qx 'second scrape: ok' "$WORK/idle.out"
check "  closing the oldest of the second wave" \
    grep -qx 'its oldest closed: yes' "$WORK/idle.out"
check "  all long before the 10 s timeout" \
    grep -qx 'within 5 s: yes' "$WORK/idle.out"
grep -v '^# \|: \(ok\|yes\)$' "$WORK/idle.out" | sed 's/^/# /'
python3 tests/system/metrics_check.py "$WORK/idle1.txt" > "$WORK/idle.samples"
check "  the scrape is valid exposition text" test $? -eq 0
nclosed=$((nmax + 1))
check "  counting the $nclosed closed" grep -qx \
    "nettally_store_metrics_idle_closed_total{} $nclosed" "$WORK/idle.samples"
check "  one log line for the $nclosed closes, not one each" test \
    "$(grep -c 'to make room: all [0-9]* scrape slots were taken' \
    "$WORK/store.log")" -eq 1
check "store stops cleanly on SIGTERM" stop_store
check "  and says how many it closed to make room" grep -q \
    "metrics: stopped: $nclosed connections closed without a request" \
    "$WORK/store.log"

"$NT_BIN/nettally-stored" -s "$WORK/sock2" -d "$WORK/db2" --metrics 70000 \
    > /dev/null 2> "$WORK/err"
check "a bad --metrics port is a usage error (exit 2)" test $? -eq 2
check "  saying what to give" grep -q \
    'metrics 70000: the port must be from 1 to 65535' "$WORK/err"
done_testing
