#!/bin/sh
# test_man.sh - the manual pages format without a groff warning, and
# every option each program's --help names is in its page.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${NT_BIN:-${O:-build}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
if ! command -v groff > /dev/null 2>&1; then
	echo "Bail out! groff is missing: apt-get install groff-base"
	exit 1
fi
# --help and --version to a full disk: exit 1 and the reason, as for any
# output; the daemons said exit 0 with nothing written.
if [ -w /dev/full ]; then
	for prog in nettally-agent nettally-stored nettally; do
		for o in --help --version; do
			"$BIN/$prog" $o > /dev/full 2> "$tmp/err"
			rc=$?
			if [ $rc = 1 ] &&
			    grep -qx "$prog: stdout: No space left on device" "$tmp/err"
			then
				pass "$prog $o to a full disk: exit 1, says so"
			else
				fail "$prog $o to a full disk: exit 1, says so (exit $rc)"
			fi
		done
	done
fi
for p in agent/nettally-agent.8:nettally-agent stored/nettally-stored.8:nettally-stored \
    stored/nettally.1:nettally; do
	page=${p%%:*} prog=${p##*:}
	out=$(LC_ALL=C.UTF-8 groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
	if [ -z "$out" ]; then
		pass "$page: no groff warnings"
	else
		fail "$page: groff warnings"
		echo "$out" | sed 's/^/# /'
	fi
	LC_ALL=C.UTF-8 groff -mandoc -Tutf8 "$page" 2> /dev/null |
	    sed 's/.\x08//g' > "$tmp/txt"
	"$BIN/$prog" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u |
	    while read -r opt; do
		grep -q -- "$opt" "$tmp/txt" || echo "$opt"
	done > "$tmp/missing"
	if [ ! -s "$tmp/missing" ]; then
		pass "$page: every option of $prog --help is documented"
	else
		fail "$page: options missing: $(tr '\n' ' ' < "$tmp/missing")"
	fi
done
# nettally's --help names every option its parser takes (the table in
# parse_args), aliases included: -s, -o, --output.
grep -o '{ "[a-z0-9]*",[[:space:]]*&opt->' stored/report.c |
    sed 's/{ "\([a-z0-9]*\)".*/\1/' | sort -u > "$tmp/parsed"
"$BIN/nettally" --help > "$tmp/help" 2>&1
while read -r o; do
	case $o in ?) f=-$o ;; *) f=--$o ;; esac
	grep -q -- "$f\([^a-z0-9-]\|\$\)" "$tmp/help" || echo "$f"
done < "$tmp/parsed" > "$tmp/missing"
if [ -s "$tmp/parsed" ] && [ ! -s "$tmp/missing" ]; then
	pass "nettally --help names every option the parser takes"
else
	fail "nettally --help misses: $(tr '\n' ' ' < "$tmp/missing")"
fi

# What --limit is said to apply to, in the page and in --help, is what
# the parser applies it to: a command named before "Not for" (or "not
# for") must take it, one that does not take it must be named after.
LC_ALL=C.UTF-8 groff -mandoc -Tutf8 stored/nettally.1 2> /dev/null |
    sed 's/.\x08//g' | awk '/^     --limit/ { p = 1; next }
	p && /^     -/ { exit } p' | tr '\n' ' ' > "$tmp/limit.man"
awk '/^  --limit/ { p = 1; print; next } p && /^  -/ { exit } p' \
    "$tmp/help" | tr '\n' ' ' > "$tmp/limit.help"
for doc in man help; do
	bad=
	before=$(sed 's/[Nn]ot for.*//' "$tmp/limit.$doc")
	after=$(sed -n 's/.*[Nn]ot for//p' "$tmp/limit.$doc")
	for c in top series summary chart status; do
		if "$BIN/nettally" "$c" --limit 3 --db /nonexistent 2>&1 |
		    grep -q 'does not apply'; then
			echo "$before" | grep -qw "$c" && bad="$bad $c"
			[ "$c" = status ] ||
			    echo "$after" | grep -qw "$c" || bad="$bad $c"
		else
			echo "$before" | grep -qw "$c" || bad="$bad $c"
		fi
	done
	if [ -s "$tmp/limit.$doc" ] && [ -z "$bad" ]; then
		pass "--limit in $doc: the commands it names are those it applies to"
	else
		fail "--limit in $doc: wrong about:$bad"
		sed 's/^/# /' "$tmp/limit.$doc"; echo
	fi
done
echo "1..$n"
[ $failed -eq 0 ] || exit 1
