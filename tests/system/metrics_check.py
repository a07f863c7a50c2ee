#!/usr/bin/env python3
"""metrics_check.py - checks Prometheus text exposition format (0.0.4).

usage: metrics_check.py FILE
Exits 1 naming the first line that breaks the format: a metric or label
name outside [a-zA-Z_:][a-zA-Z0-9_:]*, a badly escaped label value, a
value that is not a number, a sample before its family's TYPE line, a
family split in two, a counter not ending in _total, a duplicate sample.
Otherwise prints each sample as "name{labels} value", one per line, with
labels sorted, for the caller to compare.
"""
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def fail(n, line, why):
    sys.exit('line %d: %s: %r' % (n, why, line))


def main():
    typed, seen_family, samples, last = {}, set(), set(), None
    out = []
    text = open(sys.argv[1], encoding='utf-8').read()
    if not text.endswith('\n'):
        sys.exit('no final newline')
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                if not NAME.match(parts[2]):
                    fail(n, line, 'bad metric name')
                if parts[1] == 'TYPE':
                    if parts[2] in typed:
                        fail(n, line, 'second TYPE')
                    if len(parts) != 4 or parts[3] not in (
                            'counter', 'gauge', 'histogram', 'summary',
                            'untyped'):
                        fail(n, line, 'bad type')
                    if parts[3] == 'counter' and \
                            not parts[2].endswith('_total'):
                        fail(n, line, 'counter without _total')
                    typed[parts[2]] = parts[3]
            continue
        if line == '':
            continue
        m = re.match(r'([^{ ]+)(\{(.*)\})? (\S+)$', line)
        if not m:
            fail(n, line, 'not a sample')
        name, labels, value = m.group(1), m.group(3), m.group(4)
        if not NAME.match(name):
            fail(n, line, 'bad metric name')
        if name not in typed:
            fail(n, line, 'sample before its TYPE')
        if name != last and name in seen_family:
            fail(n, line, 'family split')
        seen_family.add(name)
        last = name
        pairs = []
        if labels:
            pos = 0
            while pos < len(labels):
                lm = LABEL.match(labels, pos)
                if not lm:
                    fail(n, line, 'bad label')
                pairs.append((lm.group(1), lm.group(2)))
                pos = lm.end()
                if pos < len(labels):
                    if labels[pos] != ',':
                        fail(n, line, 'bad label separator')
                    pos += 1
        try:
            float(value)
        except ValueError:
            fail(n, line, 'value not a number')
        if typed[name] == 'counter' and float(value) < 0:
            fail(n, line, 'negative counter')
        key = (name, tuple(sorted(pairs)))
        if key in samples:
            fail(n, line, 'duplicate sample')
        samples.add(key)
        out.append('%s{%s} %s' % (name, ','.join(
            '%s="%s"' % p for p in sorted(pairs)), value))
    for s in out:
        print(s)


if __name__ == '__main__':
    main()
