#!/bin/sh
# test_chart.sh - nettally chart writes an SVG that parses as XML and that
# headless Chromium renders with the expected series.
#
# The database is report_fixture2.sql (see there): by host with --limit 3
# the series are 10.1.0.2 (blue, in and out), 10.1.0.1 (orange, in and
# out), 10.1.0.3 (green, in only, second half of the window only) and
# "other" = 10.1.0.4 (grey, in only).  Chromium takes a screenshot, saved
# as $NT_REL/test-chart.png beside the SVG; chart_png.py counts the pixels
# of each series' colour above (in) and below (out) the time axis.
# Chromium is installed with apt-get when missing (as root).
. "$(dirname "$0")/lib.sh"
cd "${NT_TOP:-.}" || exit 1
OUT=${NT_REL:-$PWD/build}
mkdir -p "$OUT"

. tests/system/mkdb.sh
mkdb_build "$WORK"
db=$WORK/fixture2.db
mkdb_fixture "$db" tests/system/report_fixture2.sql

svg=$OUT/test-chart.svg
png=$OUT/test-chart.png
rm -f "$svg" "$png"
"$NT_BIN/nettally" chart --db "$db" --since 2026-11-24T10:00:00Z \
    --until 2026-11-24T10:20:00Z --by host --limit 3 -o "$svg" \
    > "$WORK/out" 2> "$WORK/err"
rc=$?
check "chart exits 0, prints nothing, writes the file" \
    test $rc -eq 0 -a ! -s "$WORK/out" -a ! -s "$WORK/err" -a -s "$svg"

# "-o -" is standard output, the same SVG, and no file named "-".
(cd "$WORK" && "$NT_BIN/nettally" chart --db "$db" \
    --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z --by host \
    --limit 3 -o - > "$WORK/stdout.svg" 2> "$WORK/err")
rc=$?
check "chart -o - writes the same SVG to standard output, no file '-'" \
    test $rc -eq 0 -a ! -s "$WORK/err" -a ! -e "$WORK/-" -a -s "$WORK/stdout.svg"
check "chart -o - output equals the file's" cmp -s "$svg" "$WORK/stdout.svg"

# Well-formed XML in the SVG namespace, with the legend's names as text.
py_check() {
	python3 - "$svg" <<'X'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
assert root.tag == ns + 'svg', root.tag
assert root.get('width') == '960' and root.get('height') == '540'
texts = [t.text or '' for t in root.iter(ns + 'text')]
for want in ('10.1.0.2 (8.6 MiB)', '10.1.0.1 (2.3 MiB)',
             '10.1.0.3 (1.4 MiB)', 'other (1.4 MiB)', 'in (bit/s)',
             'out (bit/s)', '100.0 kbit/s', '11-24 10:00', '11-24 10:20',
             'resolution: raw (1 min) 11-24 10:00 - 11-24 10:20'):
    assert want in texts, want
assert root.find(ns + 'title') is not None
# One path per series and side: 4 in, 2 out.
assert len(list(root.iter(ns + 'path'))) == 6
X
}
check "the SVG parses as XML (python3 xml.etree): title, legend, axes, tier" \
    py_check
if command -v xmllint > /dev/null 2>&1; then
	check "the SVG parses as XML (xmllint)" xmllint --noout "$svg"
fi

# Names from the database are escaped: a protocol called <b>&"x'.
"$MKDB" "$WORK/odd.db" <<'X' || exit 1
DELETE FROM address;
INSERT INTO agent VALUES (1, 'a', 1, 1, 60, 1, 1);
INSERT INTO iface VALUES (1, 1, 'eth0');
INSERT INTO address VALUES (1, X'040A000001', 4, '10.0.0.1');
INSERT INTO protocol VALUES (250, '<b>&"x''' || char(1));
INSERT INTO host_stat VALUES (1795514400, 60, 1, 1, 250, 0, 1, 100, 114, 1);
X
"$NT_BIN/nettally" chart --db "$WORK/odd.db" --by proto --since all \
    --until all -o "$WORK/odd.svg" 2> "$WORK/err"
check "odd names are escaped: still well-formed XML" \
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
    "$WORK/odd.svg"

# SVG is UTF-8 XML: valid UTF-8 names pass through (escaped), while bytes
# that are not UTF-8, C0 and C1 controls, DEL and U+FFFE (not an XML 1.0
# character) each become one '?'.
"$MKDB" "$WORK/utf8.db" <<'X' || exit 1
DELETE FROM address;
INSERT INTO agent VALUES (1, 'ag' || char(235) || 'nt', 1, 1, 60, 1, 1);
INSERT INTO iface VALUES (1, 1, 'w' || char(228) || 'n0 <' || char(26085, 26412) || '>&'),
  (2, 1, 'x' || CAST(X'FF' AS TEXT) || char(133) || char(65534) || char(127) || char(9) || 'y');
INSERT INTO address VALUES (1, X'040A000001', 4, '10.0.0.1');
INSERT INTO host_stat VALUES (1795514400, 60, 1, 1, 6, 0, 1, 200, 214, 1),
  (1795514400, 60, 2, 1, 6, 0, 1, 100, 114, 1);
X
"$NT_BIN/nettally" chart --db "$WORK/utf8.db" --by iface --since all \
    --until all -o "$WORK/utf8.svg" 2> "$WORK/err"
utf8_check() {
	python3 - "$WORK/utf8.svg" <<'X'
import sys
import xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text or '' for t in root.iter(ns + 'text')]
want = ['ag\u00ebnt/w\u00e4n0 <\u65e5\u672c>& (200 B)',
        'ag\u00ebnt/x?????y (100 B)']
for w in want:
    if w not in texts:
        print('# missing %r in %r' % (w, texts[-2:]))
        sys.exit(1)
X
}
check "UTF-8 names pass through the SVG, bad bytes and controls are '?'" \
    utf8_check

"$NT_BIN/nettally" chart --db "$db" --since all --until all --step 90s \
    -o "$WORK/bad.svg" > /dev/null 2> "$WORK/err"
rc=$?
check "a chart that cannot be drawn: exit 2, one line, no file left" \
    test $rc -eq 2 -a ! -e "$WORK/bad.svg" -a "$(wc -l < "$WORK/err")" -eq 1

chromium_bin() {
	command -v chromium || command -v chromium-browser
}
if ! chromium_bin > /dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    command -v apt-get > /dev/null 2>&1; then
	echo "# installing chromium with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    > "$WORK/apt.log" 2>&1 || sed 's/^/# /' "$WORK/apt.log" | tail -5
fi
if ! chrome=$(chromium_bin); then
	cannot_run "chart rendered in headless chromium" \
	    "chromium is missing and cannot be installed (not root?)"
	done_testing
	exit
fi
prof=$(mktemp -d "$WORK/chrome.XXXXXX")
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --hide-scrollbars \
    --force-device-scale-factor=1 --user-data-dir="$prof" \
    --screenshot="$png" --window-size=960,540 "file://$svg" \
    > "$WORK/chrome.log" 2>&1
check "chromium wrote the screenshot $png" test -s "$png"
[ -s "$png" ] || sed 's/^/# /' "$WORK/chrome.log" | tail -5
echo "# screenshot: $png"

# Plot area: x 100..900, y 50..390, time axis at y 220.
python3 tests/system/chart_png.py "$png" 102 900 50 220 390 \
    1f77b4 ff7f0e 2ca02c 7f7f7f d62728 9467bd > "$WORK/pixels" ||
    echo "# chart_png.py failed"
sed 's/^/# /' "$WORK/pixels"
# pixels COLOUR: "above below minx maxx"
pixels() { awk -v c="$1" '$1 == c { print $2, $3, $4, $5 }' "$WORK/pixels"; }
# shellcheck disable=SC2046
set -- $(pixels 1f77b4)
check "10.1.0.2 (blue) in and out across the whole window" \
    test "${1:-0}" -gt 10000 -a "${2:-0}" -gt 5000 -a "${3:-0}" -le 110 \
    -a "${4:-0}" -ge 890
set -- $(pixels ff7f0e)
check "10.1.0.1 (orange) in and out" \
    test "${1:-0}" -gt 1000 -a "${2:-0}" -gt 1000
set -- $(pixels 2ca02c)
check "10.1.0.3 (green) in only, from the middle of the window" \
    test "${1:-0}" -gt 1000 -a "${2:-1}" -eq 0 -a "${3:-0}" -ge 495
set -- $(pixels 7f7f7f)
check "other (grey: 10.1.0.4) in only" \
    test "${1:-0}" -gt 1000 -a "${2:-1}" -eq 0
set -- $(pixels d62728) $(pixels 9467bd)
check "no fourth or fifth series colour" \
    test "${1:-1}" -eq 0 -a "${2:-1}" -eq 0 -a "${5:-1}" -eq 0 \
    -a "${6:-1}" -eq 0
done_testing
