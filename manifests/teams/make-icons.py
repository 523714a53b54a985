#!/usr/bin/env python3
"""Draws the two Teams app icons without third-party libraries (PNG bytes written with zlib).

color.png   192x192, full-bleed colour background with a white database-and-arrow glyph.
outline.png  32x32, the same glyph as a white outline on a transparent background.
Run from anywhere: python3 manifests/teams/make-icons.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, width, height, pixel):
    rows = b""
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            row.extend(pixel(x, y))
        rows += bytes(row)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def inside_ellipse(x, y, cx, cy, rx, ry):
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def cylinder(x, y, stroke):
    """Unit-square glyph: a database cylinder (filled, or only its outline when stroke > 0)."""
    cx, top, bottom, rx, ry = 0.42, 0.25, 0.75, 0.24, 0.08
    body = (cx - rx <= x <= cx + rx and top <= y <= bottom) or inside_ellipse(x, y, cx, bottom, rx, ry) or inside_ellipse(x, y, cx, top, rx, ry)
    if stroke == 0:
        lid = inside_ellipse(x, y, cx, top, rx - 0.03, ry - 0.025)
        return body and not (lid and y > top - 0.0)  # a hollow lid reads as a cylinder
    inner = (cx - rx + stroke <= x <= cx + rx - stroke and top <= y <= bottom) or inside_ellipse(x, y, cx, bottom, rx - stroke, ry - stroke * 0.6)
    inner = inner and not inside_ellipse(x, y, cx, top, rx + 0.01, ry + stroke * 0.6)
    lid_ring = inside_ellipse(x, y, cx, top, rx, ry) and not inside_ellipse(x, y, cx, top, rx - stroke, ry - stroke * 0.6)
    return (body and not inner) or lid_ring


def arrow(x, y):
    """A right-pointing arrow next to the cylinder: data flowing to Prequel."""
    shaft = 0.68 <= x <= 0.82 and 0.46 <= y <= 0.54
    head = 0.80 <= x <= 0.94 and abs(y - 0.5) <= (0.94 - x) * 0.9
    return shaft or head


def coverage(px, py, size, shape, samples=4):
    hits = 0
    for sy in range(samples):
        for sx in range(samples):
            x = (px + (sx + 0.5) / samples) / size
            y = (py + (sy + 0.5) / samples) / size
            hits += shape(x, y)
    return hits / (samples * samples)


def color_pixel(x, y):
    a = coverage(x, y, 192, lambda u, v: cylinder(u, v, 0) or arrow(u, v))
    bg = (0x4B, 0x53, 0xBC)  # Teams-like indigo
    r, g, b = (round(c + (255 - c) * a) for c in bg)
    return (r, g, b, 255)


def outline_pixel(x, y):
    a = coverage(x, y, 32, lambda u, v: cylinder(u, v, 0.07) or arrow(u, v))
    return (255, 255, 255, round(255 * a))


if __name__ == "__main__":
    png(os.path.join(HERE, "color.png"), 192, 192, color_pixel)
    png(os.path.join(HERE, "outline.png"), 32, 32, outline_pixel)
    print("wrote color.png and outline.png")
