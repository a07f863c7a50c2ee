#!/bin/sh
# A batch the database refuses for good must not wedge the store.  A
# trigger added to the store's database with sqlite3 makes every
# host_stat insert of one agent ("poisoned") fail with SQLITE_CONSTRAINT,
# "test poison"; another agent ("clean") replays at the same time, so
# their batches share transactions.  The store applies a failing group
# one batch per transaction: the clean agent's totals equal the
# generator's exactly, each poisoned batch is answered with ERROR naming
# the cause and its connection closed, one log line per refusal, never a
# retry loop.  The agent resends a refused batch once on a new
# connection, then drops and counts it: every batch is refused exactly
# twice, and at the end of its file the agent says how many it dropped
# and exits 1: the replay did not deliver them.  A fourth agent
# ("partial"), refused for its first 100 s only, reports every batch it
# dropped in agent_health.dropped.  After them, a third agent's batches
# still commit exactly, and integrity_check is ok.
. "$(dirname "$0")/lib.sh"

dir=$WORK/gen
mkdir -p "$dir/clean" "$dir/poisoned" "$dir/later" "$dir/partial"
"$NT_GEN" -o "$dir/clean.pcap" -e "$dir/clean" --packets 100000 --mix \
    --seed 41 >/dev/null &&
"$NT_GEN" -o "$dir/poisoned.pcap" -e "$dir/poisoned" --packets 10000 \
    --mix --seed 42 >/dev/null &&
"$NT_GEN" -o "$dir/later.pcap" -e "$dir/later" --packets 20000 --mix \
    --seed 43 >/dev/null &&
"$NT_GEN" -o "$dir/partial.pcap" -e "$dir/partial" --packets 20000 --mix \
    --seed 44 --start 1700000000 --duration 600 >/dev/null ||
    { not_ok "generator ran"; done_testing; exit 1; }
nets=$(local_nets "$dir/clean")

# The schema first (a store started and stopped), then the trigger.
start_store && stop_store || { not_ok "store creates its database"; done_testing; exit 1; }
sql "CREATE TRIGGER poison BEFORE INSERT ON host_stat
    WHEN NEW.iface_id IN (SELECT iface.id FROM iface JOIN agent
    ON agent.id = iface.agent_id WHERE agent.name = 'poisoned')
    BEGIN SELECT RAISE(ABORT, 'test poison'); END"
# "partial": only its first 100 s, so a run of its batches is refused.
sql "CREATE TRIGGER poison_start BEFORE INSERT ON host_stat
    WHEN NEW.bucket < 1700000100 AND NEW.iface_id IN (SELECT iface.id
    FROM iface JOIN agent ON agent.id = iface.agent_id
    WHERE agent.name = 'partial')
    BEGIN SELECT RAISE(ABORT, 'test poison'); END"
check "the triggers are in the database" \
    test "$(sql "SELECT count(*) FROM sqlite_master
    WHERE name IN ('poison', 'poison_start')")" = 2
start_store || { not_ok "store starts"; done_testing; exit 1; }

# Small tables and flushes: many batches from each, sharing groups.
SMALL="--flush 10 --max-hosts 256 --max-ports 256 --max-peers 256"
# shellcheck disable=SC2086
agent -r "$dir/clean.pcap" $nets --name clean $SMALL \
    2>"$WORK/clean.err" &
p1=$!
# shellcheck disable=SC2086
agent -r "$dir/poisoned.pcap" $nets --name poisoned $SMALL \
    2>"$WORK/poisoned.err" &
p2=$!
stop_agents() { kill -KILL $p1 $p2 2>/dev/null; }
CLEANUP_HOOKS="stop_agents $CLEANUP_HOOKS"
# Both must finish by themselves: a store wedged on the poisoned batch
# would leave them waiting for ever, so give up after 50 s.
i=0
while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 500 ] && break
	sleep 0.1
done
check "both agents finish (the store is not wedged)" \
    test $i -le 500
stop_agents
wait $p1; r1=$?
wait $p2; r2=$?
check "the clean agent exits 0 (got $r1)" test "$r1" -eq 0
check "the poisoned agent exits 1, having dropped what was refused (got $r2)" \
    test "$r2" -eq 1

for k in hosts ports peers; do
	"db_$k" clean >"$WORK/clean.$k"
	check "clean: ${k} totals equal the generator's" \
	    same_rows "$dir/clean/$k.csv" "$WORK/clean.$k"
done
db_iface clean >"$WORK/clean.iface"
check "clean: interface totals equal the generator's" \
    same_rows "$dir/clean/interface.csv" "$WORK/clean.iface"

check "poisoned: no host row reached the database" \
    test "$(sql "SELECT count(*) FROM host_traffic WHERE agent = 'poisoned'")" = 0
nerr=$(grep -c "store: error 1: BATCH [0-9]* of epoch [0-9]* refused by the database, not stored: test poison" \
    "$WORK/poisoned.err")
ndrop=$(grep -c "the store refuses batch [0-9]* as invalid; dropped" \
    "$WORK/poisoned.err")
check "poisoned: the agent got ERROR naming the cause ($nerr times)" \
    test "$nerr" -gt 0
check "poisoned: it dropped each batch at its second ERROR ($ndrop dropped)" \
    test "$nerr" -eq $((2 * ndrop))
check "poisoned: its last line counts the batches it dropped" \
    grep -q "poisoned.pcap: [0-9]* frames counted, but $ndrop batch(es) of them were dropped" \
    "$WORK/poisoned.err"
# The seqs it dropped are the seqs the store refused, each at least
# twice (more when the agent, still writing, met the closed socket before
# it read the ERROR), and each refusal is one line: one per connection.
grep -o "refuses batch [0-9]*" "$WORK/poisoned.err" | awk '{ print $3 }' |
    sort -n >"$WORK/dropped"
grep "refused by the database" "$WORK/store.log" >"$WORK/refusals"
sed 's/.*BATCH \([0-9]*\) of epoch.*/\1/' "$WORK/refusals" | sort -n |
    uniq -c >"$WORK/refused"
awk '{ print $2 }' "$WORK/refused" >"$WORK/refused.seqs"
check "store: the batches it refused are the ones the agent dropped" \
    cmp -s "$WORK/dropped" "$WORK/refused.seqs"
check "store: each of them refused at least twice" \
    test "$(awk '$1 < 2' "$WORK/refused" | wc -l)" -eq 0
check "store: only the poisoned agent's batches were refused" \
    test "$(grep -vc ': poisoned (pid [0-9]*): ' "$WORK/refusals")" -eq 0
check "store: each refusal logged once (one line per connection)" \
    test -z "$(grep -o '^[^:]*: conn [0-9]*:' "$WORK/refusals" | sort | uniq -d)"
check "store: the log names the epoch and the SQLite message" \
    grep -q "poisoned (pid [0-9]*): BATCH [0-9]* of epoch [0-9]* refused by the database, not stored: test poison" \
    "$WORK/store.log"
check "store: the data error is not logged as a failed transaction" \
    test "$(grep -c 'transaction of [0-9]* items failed: ' \
    "$WORK/store.log")" -eq 0
check "store: each gap in an agent's seqs warned of once, not per retry" \
    test -z "$(grep -o 'batch [0-9]* follows [0-9]*' "$WORK/store.log" |
    sort | uniq -d)"
check "store: still running" kill -0 "$STORE_PID"

# A refused batch carried the count of those dropped before it: that
# count must go on to the next batch, not be lost with it; and drops
# after the file's last batch was encoded go in a closing health batch.
# shellcheck disable=SC2086
agent -r "$dir/partial.pcap" $nets --name partial --resolution 60 $SMALL \
    2>"$WORK/partial.err"
check "partial: the agent exits 1 (it dropped batches)" test $? -eq 1
ndrop=$(grep -c "the store refuses batch [0-9]* as invalid; dropped" \
    "$WORK/partial.err")
reported=$(sql "SELECT coalesce(sum(dropped), 0) FROM agent_health
    WHERE agent = 'partial'")
check "partial: a run of batches was dropped ($ndrop)" test "$ndrop" -gt 1
check "partial: agent_health.dropped counts every one ($reported)" \
    test "$reported" = "$ndrop"

# shellcheck disable=SC2086
agent -r "$dir/later.pcap" $nets --name later --flush 50 \
    2>"$WORK/later.err"
check "a later agent exits 0" test $? -eq 0
db_hosts later >"$WORK/later.hosts"
check "later: host totals equal the generator's" \
    same_rows "$dir/later/hosts.csv" "$WORK/later.hosts"
db_peers later >"$WORK/later.peers"
check "later: peer totals equal the generator's" \
    same_rows "$dir/later/peers.csv" "$WORK/later.peers"
check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
