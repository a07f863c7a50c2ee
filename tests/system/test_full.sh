#!/bin/sh
# A full disk: the database lives on a small tmpfs this test mounts, a
# file fills it to within 3 MB, and a replay needs more than that.  The
# store must stop acknowledging, log the cause once with the fix, keep
# running and keep the database; once the file is removed it must resume
# by itself, and every view must equal the generator's count exactly,
# with integrity_check ok.
. "$(dirname "$0")/lib.sh"
# The generated captures are from 2023: keep their raw buckets, which the
# checks compare, out of retention's roll-ups.

if [ "$(id -u)" != 0 ]; then
	cannot_run_all "full disk" "mounting a tmpfs needs root"
fi
FS=$WORK/fs
if ! tmpfs_mount "$FS" 48m; then
	cannot_run_all "full disk" "cannot mount a tmpfs"
fi
unmount_fs() {
	[ -n "$STORE_PID" ] && kill -KILL "$STORE_PID" 2>/dev/null &&
	    wait "$STORE_PID" 2>/dev/null
	STORE_PID=
	tmpfs_unmount "$FS"
}
CLEANUP_HOOKS="$CLEANUP_HOOKS unmount_fs"

NAME=full
dir=$WORK/gen
mkdir -p "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 100000 --mix \
    --seed 3 --local-hosts 200 --remote-hosts 5000 --flows 20000 \
    --duration 600 >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }

start_store "$FS/db.sqlite" || { not_ok "store starts"; done_testing; exit 1; }
# Fill the filesystem to within 3 MB: the replay needs about 14 MB.
fill_fs "$FS" 3072
check "the filesystem has 3 MB left" test \
    "$(df -k --output=avail "$FS" | tail -n 1)" -le 3072

nets=$(local_nets "$dir")
# shellcheck disable=SC2086
agent -r "$dir/in.pcap" $nets --name "$NAME" --resolution 60 --flush 20 \
    2>"$WORK/agent.err" &
AGENT_PID=$!

if wait_for "grep -q 'the disk is full' '$WORK/store.log'" 600; then
	ok "the store reports the full disk with the fix"
else
	not_ok "the store reports the full disk with the fix"
	tail -n 5 "$WORK/store.log" | sed 's/^/# /'
fi
# Let it retry a few times (1, 2, 4 s backoff): still one line.
acked=$(sql "SELECT count(*) FROM batch")
sleep 4
check "the store keeps running while the disk is full" kill -0 "$STORE_PID"
check "the agent is still waiting for acknowledgements" kill -0 "$AGENT_PID"
check "nothing more is committed while full ($acked batches)" \
    test "$(sql "SELECT count(*) FROM batch")" = "$acked"
check "the cause is logged once, not per retry" \
    test "$(grep -c 'transaction of .* failed' "$WORK/store.log")" -eq 1
check "the database file is still there" test -s "$FS/db.sqlite"
check "integrity_check is ok while full" \
    test "$(sql 'PRAGMA integrity_check')" = ok

rm -f "$FS/fill"
reap_agent
check "with space back the agent delivers everything and exits 0" \
    test "$rc" -eq 0
check "the store says it is writable again" grep -q "writable again" \
    "$WORK/store.log"

views_equal "$NAME" "$dir"
check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
