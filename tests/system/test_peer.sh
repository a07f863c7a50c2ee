#!/bin/sh
# Who may connect: the socket's mode, owner and group, and the store's own
# check of every peer's credentials (SO_PEERCRED) against --allow-uid and
# --allow-group.  A user outside them cannot write a row, even through a
# world-writable socket; listed users and groups can.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	cannot_run_all "peer credential checks" "needs root and setpriv"
fi
# The unprivileged agent must reach the socket and read the capture.
chmod 0755 "$WORK"
"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/exp" --packets 2000 --seed 5 \
    >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
chmod 0644 "$WORK/in.pcap"
DB=$WORK/db.sqlite
SOCK=$WORK/sock

# store ARGS...: a store on $SOCK with extra options, waits for it.
store() {
	"$NT_BIN/nettally-stored" -s "$SOCK" -d "$DB" --allow-root "$@" \
	    2>>"$WORK/store.log" &
	STORE_PID=$!
	wait_for "[ -S '$SOCK' ] || ! kill -0 $STORE_PID 2>/dev/null" 100
	[ -S "$SOCK" ]
}
# as_nobody NAME: the agent as uid/gid 65534 without groups.
as_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	    "$NT_BIN/nettally-agent" -s "$SOCK" -r "$WORK/in.pcap" \
	    --name "$1" --resolution 60 2>"$WORK/agent.err"
}
rows() {
	sql "SELECT count(*) FROM batch JOIN agent ON agent.id = batch.agent_id
	    WHERE agent.name = '$1'"
}

# 1. Default: mode 0660, owned by the store's user: nobody cannot connect.
check "store starts with defaults" store
check "socket mode is 0660" test "$(stat -c %a "$SOCK")" = 660
if as_nobody nobody0; then
	not_ok "uid $NOBODY cannot connect to a 0660 root socket"
else
	ok "uid $NOBODY cannot connect to a 0660 root socket"
fi
check "  ... and says permission denied" grep -q "permission denied" \
    "$WORK/agent.err"
check "  ... and wrote no row" test "$(rows nobody0)" = 0
stop_store

# 2. A socket anyone may open: the credential check alone refuses.
check "store starts with --socket-mode 0666" store --socket-mode 0666
if as_nobody nobody1; then
	not_ok "uid $NOBODY is refused by the credential check"
else
	ok "uid $NOBODY is refused by the credential check"
fi
if grep -q "not allowed" "$WORK/agent.err"; then
	ok "  ... the agent is told it is not allowed"
else
	not_ok "  ... the agent is told it is not allowed"
	sed 's/^/# /' "$WORK/agent.err"
fi
check "  ... the store logs the refusal with pid and uid" grep -q \
    "(pid [0-9]*): peer pid [0-9]* uid $NOBODY .*not allowed" \
    "$WORK/store.log"
check "  ... and no row of it is in the database" test "$(rows nobody1)" = 0
check "  ... nor its agent" test "$(sql "SELECT count(*) FROM agent
    WHERE name = 'nobody1'")" = 0
# Root, and the user nettally a root agent drops to, are allowed by default.
check "an agent started as root still delivers" agent -r "$WORK/in.pcap" --name root1 \
    --resolution 60 2>>"$WORK/agent.err"
check "  ... and its rows are there" test "$(rows root1)" -gt 0
stop_store

# 3. --allow-uid lets that user deliver, every packet of it.
check "store starts with --allow-uid $NOBODY" store --socket-mode 0666 \
    --allow-uid "$NOBODY"
check "uid $NOBODY delivers when allowed by uid" as_nobody nobody2
frames=$(tail -n 1 "$WORK/exp/interface.csv" | cut -d, -f1)
check "  ... every frame counted ($frames)" test "$(sql "SELECT
    sum(frames) FROM interface_traffic WHERE agent = 'nobody2'")" = "$frames"
stop_store

# 4. --allow-group, and --socket-owner/--socket-group on the file.
check "store starts with --allow-group and --socket-group" store \
    --allow-group "$NOBODY" --socket-group "$NOBODY" --socket-owner 0
check "socket group is $NOBODY" test "$(stat -c %g "$SOCK")" = "$NOBODY"
check "socket owner is root" test "$(stat -c %u "$SOCK")" = 0
check "a member of an allowed group delivers through the group bit" \
    as_nobody nobody3
check "  ... and its rows are there" test "$(rows nobody3)" -gt 0
stop_store

check "an unknown user is a usage error" sh -c "! '$NT_BIN/nettally-stored' \
    -s '$SOCK' -d '$DB' --allow-uid no-such-user-nt 2>/dev/null"
check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
done_testing
