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
echo "1..$n"
[ $failed -eq 0 ] || exit 1
