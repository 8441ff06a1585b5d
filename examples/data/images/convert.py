#!/usr/bin/env python3
"""Made the PGM images of this directory, once, from scikit-image's sample
data as Debian ships it (python3-skimage 0.19.3, directory
/usr/lib/python3/dist-packages/skimage/data; `apt-get download
python3-skimage && dpkg-deb -x python3-skimage_*.deb x` is enough, nothing
needs installing). Pure Python (zlib only), so it needs no imaging library:

    python3 convert.py SKIMAGE_DATA_DIR OUT_DIR

Each PNG is decoded, turned to grey as skimage.color.rgb2gray does
(0.2125 R + 0.7154 G + 0.0721 B), centre-cropped to a square, and brought to
256 x 256: a 512 x 512 crop is averaged over 2 x 2 pixels, a smaller image
is cropped to its central 256 x 256. Written as binary 8-bit PGM (P5).
The examples read the PGM files; this script is not run by the build.
"""
import struct
import sys
import zlib

IMAGES = ["camera", "astronaut", "chelsea", "coffee", "grass"]


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, hdr, plte = 8, b"", None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            plte = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and interlace == 0, (path, depth, interlace)
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * chans
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - chans] if i >= chans else 0
            b = prev[i]
            c = prev[i - chans] if i >= chans else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    grey = []
    for line in rows:
        if ctype == 3:
            px = [plte[3 * v:3 * v + 3] for v in line]
            grey.append([0.2125 * q[0] + 0.7154 * q[1] + 0.0721 * q[2] for q in px])
        elif chans >= 3:
            grey.append([0.2125 * line[chans * x] + 0.7154 * line[chans * x + 1]
                         + 0.0721 * line[chans * x + 2] for x in range(w)])
        else:
            grey.append([float(line[chans * x]) for x in range(w)])
    return w, h, grey


def to_256(w, h, g):
    side = 512 if min(w, h) >= 512 else 256
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = [row[x0:x0 + side] for row in g[y0:y0 + side]]
    if side == 256:
        return crop
    return [[(crop[2 * y][2 * x] + crop[2 * y][2 * x + 1] + crop[2 * y + 1][2 * x]
              + crop[2 * y + 1][2 * x + 1]) / 4 for x in range(256)] for y in range(256)]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for name in IMAGES:
        w, h, g = read_png("%s/%s.png" % (src, name))
        img = to_256(w, h, g)
        out = bytes(min(255, max(0, int(round(v)))) for row in img for v in row)
        with open("%s/%s.pgm" % (dst, name), "wb") as f:
            f.write(b"P5\n256 256\n255\n" + out)
        print(name, w, h)


if __name__ == "__main__":
    main()
