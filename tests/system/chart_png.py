#!/usr/bin/env python3
"""chart_png.py - counts the pixels of given colours in regions of a PNG.

usage: chart_png.py FILE.png X0 X1 Y0 YMID Y1 RRGGBB...
Decodes the PNG with zlib from the standard library (8-bit RGB or RGBA,
non-interlaced, as Chromium writes screenshots) and prints, for each
colour, one line: "RRGGBB above below minx maxx", the number of pixels of
exactly that colour with X0 <= x < X1 in Y0 <= y < YMID - 4 (above) and
YMID + 4 < y < Y1 (below),
and the smallest and largest x of them (-1 when none).  Used by
test_chart.sh; a small decoder rather than a dependency.
"""
import struct
import sys
import zlib


def decode(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG: depth %d type %d' % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def main():
    path = sys.argv[1]
    x0, x1, y0, ymid, y1 = map(int, sys.argv[2:7])
    w, h, bpp, rows = decode(path)
    for hexc in sys.argv[7:]:
        want = bytes.fromhex(hexc)
        above = below = 0
        xs = []
        for y in range(max(y0, 0), min(y1, h)):
            if ymid - 4 <= y <= ymid + 4:
                continue
            line = rows[y]
            for x in range(max(x0, 0), min(x1, w)):
                if bytes(line[x * bpp:x * bpp + 3]) == want:
                    xs.append(x)
                    if y < ymid:
                        above += 1
                    else:
                        below += 1
        print('%s %d %d %d %d' % (hexc, above, below,
                                  min(xs) if xs else -1,
                                  max(xs) if xs else -1))


if __name__ == '__main__':
    main()
