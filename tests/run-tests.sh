#!/bin/sh
# Runs every test of nettally and prints one closing line:
#   check: N passed, N failed, N skipped
# Unit tests (cmocka) and system scripts speak TAP; each fuzz target runs
# for FUZZ_CHECK_SECONDS.  Exit status 1 when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1

SAN=${SAN:-build/san}		# sanitised binaries and unit tests
REL=${REL:-build}		# optimised binaries (valgrind, generator)
FUZZDIR=${FUZZDIR:-build/fuzz}
FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-20}
export NT_BIN="$PWD/$SAN" NT_TOP="$PWD" NT_GEN="$PWD/$REL/nettally-gen"
export NT_REL="$PWD/$REL"
LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed_names=""

# tally NAME LOGFILE RC: counts the TAP lines of one test program.
tally() {
	name=$1 log=$2 rc=$3
	p=$(grep -Ec '^ok [0-9]+' "$log" | head -1)
	s=$(grep -Eic '^ok [0-9]+.*# *skip' "$log" | head -1)
	f=$(grep -Ec '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# died without saying which test: count it
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		failed_names="$failed_names $name"
		echo "FAIL $name ($f failed; log: $log)"
		grep -E '^not ok' "$log" | head -20 | sed 's/^/    /'
	else
		echo "pass $name ($p passed, $s skipped)"
	fi
}

for t in $(find "$SAN/tests" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort); do
	name=unit/$(basename "$t")
	log="$LOGDIR/$(basename "$t").log"
	CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1 "$t" >"$log" 2>&1
	tally "$name" "$log" $?
done

for t in tests/system/test_*.sh; do
	[ -f "$t" ] || continue
	name=system/$(basename "$t" .sh)
	log="$LOGDIR/$(basename "$t" .sh).log"
	sh "$t" >"$log" 2>&1
	tally "$name" "$log" $?
done

# The system tests above run the sanitised agent, whose seccomp filter
# also allows what the sanitisers need (every open among them): these run
# again on the release binaries, under the filter as shipped.
for t in test_privdrop test_spool test_spool_refused; do
	name=release/$t
	log="$LOGDIR/release-$t.log"
	NT_BIN=$NT_REL sh "tests/system/$t.sh" >"$log" 2>&1
	tally "$name" "$log" $?
done

# fuzz_one TARGET: runs one fuzz target; its log says ok or not ok.
fuzz_one() {
	t=$1
	log="$LOGDIR/$(basename "$t").log"
	corpus=$FUZZDIR/check-corpus/$(basename "$t")
	mkdir -p "$corpus"
	seeds=tests/fuzz/seeds/$(basename "$t")
	[ -d "$seeds" ] || seeds=
	[ "$(basename "$t")" = fuzz_flowtab ] && [ -n "$pcap_seeds" ] &&
		seeds="$seeds $pcap_seeds"
	"$t" -max_total_time="$FUZZ_CHECK_SECONDS" -print_final_stats=1 \
	    "$corpus" $seeds >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok 1 - $(basename "$t") ran ${FUZZ_CHECK_SECONDS}s without a finding" >>"$log"
	else
		echo "not ok 1 - $(basename "$t") found a crash (status $rc)" >>"$log"
	fi
	return $rc
}

# fuzz_flowtab reads pcap files: also the heads of the shared corpus and
# of generated captures (tests/fuzz/pcap-seeds.sh).
pcap_seeds=
tests/fuzz/pcap-seeds.sh "$FUZZDIR/pcap-seeds" "$REL/nettally-gen" >/dev/null &&
	pcap_seeds=$FUZZDIR/pcap-seeds

# Each target is single-threaded: two at a time keep both cores busy and
# take half the time, with each still getting its FUZZ_CHECK_SECONDS.
set -- "$FUZZDIR"/fuzz_*
while [ $# -gt 0 ]; do
	a=$1; shift
	b=
	if [ $# -gt 0 ]; then b=$1; shift; fi
	[ -x "$a" ] || a=
	[ -n "$b" ] && [ ! -x "$b" ] && b=
	pa= pb=
	[ -n "$a" ] && { fuzz_one "$a" & pa=$!; }
	[ -n "$b" ] && { fuzz_one "$b" & pb=$!; }
	for t in $a $b; do
		if [ "$t" = "$a" ]; then wait "$pa"; else wait "$pb"; fi
		tally "fuzz/$(basename "$t")" "$LOGDIR/$(basename "$t").log" $?
	done
done

echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || exit 1
[ "$((pass + fail + skip))" -gt 0 ] || exit 1
exit 0
