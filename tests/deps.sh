#!/bin/sh
# Installs the Debian packages nettally needs to build and test, only those
# missing, so `make check` and `make run` work on a fresh Debian 12 machine.
set -eu

# time: /usr/bin/time -f %M (test_flood's peak RSS); strace (test_status,
# test_report_reader); man-db: systemd-analyze verify runs man(1) for each
# unit's Documentation= (test_install).
pkgs="make gcc clang pkg-config libpcap-dev libuv1-dev libsqlite3-dev
libmsgpack-dev libcmocka-dev libclang-rt-14-dev sqlite3 iproute2 valgrind
procps python3 libxml2-utils bsdutils libseccomp-dev libcap-ng-dev libcap2-bin
util-linux systemd groff-base curl time strace man-db"

# An agent started as root drops to the nettally user: when the tests run
# as root, create it as a package would, from the sysusers.d file.
add_user() {
	[ "$(id -u)" = 0 ] || return 0
	getent passwd nettally >/dev/null && return 0
	echo "deps: creating the nettally system user (systemd/nettally.sysusers)"
	systemd-sysusers "$(cd "$(dirname "$0")/.." && pwd)/systemd/nettally.sysusers"
}

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	add_user
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root, or: apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
add_user
