#!/bin/sh
# pcap-seeds.sh OUTDIR [GEN]: seeds for fuzz_flowtab, whose input is a
# classic pcap file, cut from captures that are not in the repository:
# the head of every classic pcap in ../shared/pcaps (when present; pcapng
# is skipped, the target reads classic pcap only) and a few captures made
# by nettally-gen (GEN, default build/nettally-gen).  Each seed is the
# file's first SEED_BYTES bytes (default 8192): the target stops at a cut
# record, as libpcap does.  Nothing is copied into the source tree.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=${1:?usage: pcap-seeds.sh OUTDIR [GEN]}
gen=${2:-build/nettally-gen}
bytes=${SEED_BYTES:-8192}
shared=${NT_PCAPS:-../shared/pcaps}
mkdir -p "$out" || exit 1
n=0
if [ -d "$shared" ]; then
	for f in "$shared"/*.pcap; do
		[ -f "$f" ] || continue
		head -c "$bytes" "$f" >"$out/shared_$(basename "$f" .pcap)"
		n=$((n + 1))
	done
fi
if [ -x "$gen" ]; then
	i=0
	for args in "--mix --size 64" "--mix --vlan --size 64" \
	    "--mix --flood 40 --size 64" "--mix --snaplen 54 --size imix" \
	    "--mix --ipv6-share 90 --size 64" "--flood 100 --local-hosts 2" \
	    "--mix --link pppoe --vlan --size 64" "--mix --link sll --size 64" \
	    "--mix --link sll2 --vlan --size 64" "--mix --link null --size 64" \
	    "--mix --link raw --size 64" "--mix --link ppp --size 64" \
	    "--mix --format pcap-ns --size 64" \
	    "--mix --aci --tags 88a8,8100 --size 64" \
	    "--mix --link sll2 --sll-proto ethernet --mpls 2 --size 64" \
	    "--mix --link sll --sll-type 770 --sll-proto ppp --size 64" \
	    "--mix --link chdlc --mpls 1 --size 64" \
	    "--mix --link ppp-dir --size 64"; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		"$gen" -o - --packets 200 --seed "$i" $args 2>/dev/null |
		    head -c "$bytes" >"$out/gen_$i"
		n=$((n + 1))
	done
fi
echo "pcap-seeds: $n seeds in $out"
