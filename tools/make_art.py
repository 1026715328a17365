#!/usr/bin/env python3
"""Draw the add-on artwork: resources/icon.png (512x512) and resources/fanart.jpg (1920x1080).

Original design: a dark blue to teal diagonal gradient, a rounded white play triangle and a
mint check-mark badge. Needs Pillow (a dev dependency, not an add-on dependency).

    python tools/make_art.py [--out-dir resources]
"""

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

NAVY = (11, 24, 56)
TEAL = (10, 150, 150)
WHITE = (255, 255, 255)
MINT = (46, 224, 160)
INK = (9, 30, 52)
SUPERSAMPLE = 4


def gradient(width, height, start=NAVY, end=TEAL):
    """Diagonal gradient from the top-left (start) to the bottom-right (end)."""
    across = Image.linear_gradient("L").rotate(90).resize((width, height))
    down = Image.linear_gradient("L").resize((width, height))
    mask = ImageChops.add(across, down, scale=2)
    return Image.composite(Image.new("RGB", (width, height), end), Image.new("RGB", (width, height), start), mask)


def glow(image, center, radius, strength):
    """Soft light disc behind the motif, so the symbol does not float on a flat field."""
    size = 2 * radius
    # radial_gradient reaches 181 at the middle of each edge: fade to zero there, with a soft falloff.
    falloff = [int(255 * strength * max(0.0, 1 - v / 181) ** 2) for v in range(256)]
    disc = Image.radial_gradient("L").resize((size, size), Image.BICUBIC).point(falloff)
    layer = Image.new("RGB", (size, size), WHITE)
    image.paste(layer, (center[0] - radius, center[1] - radius), disc)


def motif(size):
    """RGBA square: rounded play triangle with a check-mark badge, anti-aliased by supersampling."""
    s = size * SUPERSAMPLE
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)

    def px(fraction):
        return int(round(fraction * s))

    # Play triangle, corners rounded by stroking its outline with a round pen.
    corners = [(px(0.27), px(0.20)), (px(0.27), px(0.80)), (px(0.79), px(0.50))]
    pen = px(0.07)
    draw.polygon(corners, fill=WHITE)
    draw.line(corners + corners[:1], fill=WHITE, width=pen, joint="curve")
    for x, y in corners:
        draw.ellipse((x - pen // 2, y - pen // 2, x + pen // 2, y + pen // 2), fill=WHITE)

    # Badge: a mint disc with a dark ring cut around it, so it reads over the triangle.
    cx, cy, r = px(0.72), px(0.72), px(0.19)
    ring = px(0.035)
    draw.ellipse((cx - r - ring, cy - r - ring, cx + r + ring, cy + r + ring), fill=(0, 0, 0, 0))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=MINT)
    check = [(cx - px(0.095), cy + px(0.005)), (cx - px(0.025), cy + px(0.075)), (cx + px(0.105), cy - px(0.07))]
    stroke = px(0.045)
    draw.line(check, fill=INK, width=stroke, joint="curve")
    for x, y in (check[0], check[-1]):
        draw.ellipse((x - stroke // 2, y - stroke // 2, x + stroke // 2, y + stroke // 2), fill=INK)

    return layer.resize((size, size), Image.LANCZOS)


def shadow(layer, offset, blur):
    """Soft drop shadow of an RGBA layer's shape."""
    alpha = layer.getchannel("A").point(lambda v: v * 45 // 100)
    shade = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    shade.putalpha(alpha)
    shade = shade.filter(ImageFilter.GaussianBlur(blur))
    moved = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    moved.paste(shade, offset)
    return moved


def place(image, layer, top_left):
    canvas = image.convert("RGBA")
    size = layer.size[0]
    canvas.alpha_composite(shadow(layer, (0, size // 64), size // 48), top_left)
    canvas.alpha_composite(layer, top_left)
    return canvas.convert("RGB")


def make_icon(size=512):
    image = gradient(size, size)
    glow(image, (size // 2, size // 2), int(size * 0.48), 0.18)
    symbol = motif(int(size * 0.86))
    offset = (size - symbol.size[0]) // 2
    return place(image, symbol, (offset, offset))


def make_fanart(width=1920, height=1080):
    image = gradient(width, height)
    side = int(height * 0.62)
    center = (int(width * 0.70), height // 2)
    glow(image, center, int(side * 0.75), 0.14)
    symbol = motif(side)
    return place(image, symbol, (center[0] - side // 2, center[1] - side // 2))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent.parent / "resources"
    parser.add_argument("--out-dir", type=Path, default=default_out, help="default: <repo>/resources")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    icon_path = args.out_dir / "icon.png"
    make_icon().save(str(icon_path), "PNG", optimize=True)
    fanart_path = args.out_dir / "fanart.jpg"
    make_fanart().save(str(fanart_path), "JPEG", quality=90, optimize=True, progressive=True)

    for path in (icon_path, fanart_path):
        with Image.open(str(path)) as img:
            print(f"{path} {img.size[0]}x{img.size[1]} {path.stat().st_size // 1024} KB")
    if fanart_path.stat().st_size >= 1000 * 1024:
        print("make_art: error: fanart.jpg is 1000 KB or more", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
