#!/bin/sh
# Installs the Debian packages `make bench` compares against or measures
# with, only those missing: tcpdump, pmacct (pmacctd), netsniff-ng
# (trafgen), time (/usr/bin/time -v for peak RSS), iproute2 (netns, veth).
# Kept apart from tests/deps.sh: `make check` needs none of them.
set -eu

pkgs="tcpdump pmacct netsniff-ng time iproute2 sqlite3 procps"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "bench-deps: missing Debian packages:$missing" >&2
	echo "bench-deps: run 'make bench' as root, or: apt-get install -y$missing" >&2
	exit 1
fi
echo "bench-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
