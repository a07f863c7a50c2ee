#!/bin/sh
# make run: the store and one agent on the default interface, the database
# under ./var/, and a one-line summary every 3 seconds until Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
VAR=${VAR:-$PWD/var}
IFACE=${IFACE:-$(awk '$2 == "00000000" { print $1; exit }' /proc/net/route)}
[ -n "$IFACE" ] || IFACE=$(ip -o link show up | awk -F': ' '$2 != "lo" { print $2; exit }')
mkdir -p "$VAR"
SOCK=$VAR/nettally.sock
DB=$VAR/nettally.db

# Each daemon runs in its own session, so Ctrl-C reaches only this script,
# which then stops the agent first (it ships its last batch and waits for
# the ACK) and the store after it.
# As root (for the capture) the store needs --allow-root, and the agent,
# which drops to the user nettally (make deps creates it), reaches the
# socket through its group.  It must also reach the socket's directory,
# and a clone under /root (0700 on Debian) is out of its reach: as root
# the socket goes in a directory of its own under /run that the group
# nettally may enter, removed on exit.
AS_ROOT=
SOCKDIR=
store=
# A Ctrl-C before the agent runs: the store, if started, is stopped, and
# the exit runs the EXIT trap (a signal's default end would skip it).
early_stop() {
	[ -n "$store" ] && kill -TERM "$store" 2>/dev/null && wait "$store"
	exit 130
}
trap early_stop INT TERM
remove_sockdir() {
	[ -n "$SOCKDIR" ] || return 0
	rm -f "$SOCK"
	rmdir "$SOCKDIR"
}
if [ "$(id -u)" = 0 ]; then
	SOCKDIR=$(mktemp -d /run/nettally-run.XXXXXX) || exit 1
	trap remove_sockdir EXIT
	if ! chgrp nettally "$SOCKDIR" || ! chmod 0710 "$SOCKDIR"; then
		echo "run: cannot open $SOCKDIR to the group nettally (make deps creates it)" >&2
		exit 1
	fi
	SOCK=$SOCKDIR/nettally.sock
	AS_ROOT="--allow-root --socket-group nettally"
fi
# shellcheck disable=SC2086
setsid "$B/nettally-stored" -s "$SOCK" -d "$DB" $AS_ROOT &
store=$!
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $store 2>/dev/null; then
		echo "run: the store did not start" >&2
		exit 1
	fi
	sleep 0.05
done
setsid "$B/nettally-agent" -i "$IFACE" -s "$SOCK" --resolution 10 &
agent=$!

stop() {
	trap - INT TERM
	echo
	echo "run: stopping agent ($agent) and store ($store)"
	kill -TERM $agent 2>/dev/null; wait $agent
	kill -TERM $store 2>/dev/null; wait $store
	echo "run: data kept in $DB; try: $B/nettally top hosts --db $DB"
	exit 0
}
trap stop INT TERM

echo "run: capturing on $IFACE; database $DB; Ctrl-C stops"
start=$(date +%s)
while kill -0 $agent 2>/dev/null; do
	sleep 3
	sqlite3 -batch -noheader -separator ' ' "file:$DB?mode=ro" "
	    SELECT strftime('%H:%M:%S','now'),
	      'frames', COALESCE(sum(frames),0),
	      'bytes', COALESCE(sum(frame_bytes),0),
	      'ipv4', COALESCE(sum(ipv4_packets),0),
	      'ipv6', COALESCE(sum(ipv6_packets),0),
	      'other', COALESCE(sum(non_ip_frames),0),
	      'hosts', (SELECT count(DISTINCT host) FROM host_traffic
	                WHERE bucket >= $start - 10),
	      'top', COALESCE((SELECT host || ' ' || sum(bytes) || 'B'
	                FROM host_traffic WHERE bucket >= $start - 10
	                GROUP BY host ORDER BY sum(bytes) DESC LIMIT 1), '-')
	    FROM interface_traffic WHERE bucket >= $start - 10" 2>/dev/null ||
	    echo "run: waiting for the first batch"
done
wait $agent
echo "run: the agent stopped (status $?)" >&2
kill -TERM $store 2>/dev/null; wait $store
exit 1
