#!/bin/sh
# The agent's heap allocations do not grow with the number of packets:
# ten times the packets of the same host mix costs at most a handful more
# allocations (valgrind's heap summary, on the unsanitised build).
. "$(dirname "$0")/lib.sh"

REL=${NT_REL:-$NT_TOP/build}
if ! command -v valgrind >/dev/null; then
	cannot_run_all "heap allocations flat in packets" "valgrind missing"
fi
start_store || { not_ok "store starts"; done_testing; exit 1; }
allocs() {
	"$NT_GEN" -o "$WORK/a.pcap" --packets "$1" --seed 5 --flows 2000 \
	    --local-hosts 50 --remote-hosts 200 >/dev/null
	# The flush interval is set past the run so time does not add batches.
	# Valgrind cannot run a seccomp filter; --vgdb=no: its pipes in /tmp
	# could not be removed once the agent has dropped to another user.
	valgrind --vgdb=no --error-exitcode=9 "$REL/nettally-agent" -s "$SOCK" \
	    -r "$WORK/a.pcap" --flush 3600000 --name "alloc$1" --no-seccomp \
	    2>"$WORK/vg.$1" >/dev/null || return 1
	sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$WORK/vg.$1" | tr -d ,
}
a1=$(allocs 20000)
a2=$(allocs 200000)
echo "# allocations: 20000 packets: $a1, 200000 packets: $a2"
check "valgrind ran the agent cleanly" test -n "$a1" -a -n "$a2"
check "10x the packets costs at most 5 more allocations ($a1 -> $a2)" \
    test -n "$a1" -a -n "$a2" -a "$((a2 - a1))" -le 5
check "store stops cleanly on SIGTERM" stop_store
done_testing
