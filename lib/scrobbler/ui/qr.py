"""The login dialog's QR code: encoded on the device by pyqrcode (Kodi's script.module.pyqrcode) and
written as a PNG with the standard library (no image module needed, and never a web service)."""
import os
import struct
import zlib

from ..files import replace_file

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def matrix(text):
    """The QR code's modules for `text`, rows of 1 (dark) and 0 (light), without the quiet zone;
    None when pyqrcode is not available."""
    try:
        import pyqrcode
    except ImportError:
        return None
    return [list(row) for row in pyqrcode.create(text, error="M").code]


def png_bytes(modules, scale=10):
    """An 8-bit greyscale PNG of the modules, each `scale` pixels wide, with the quiet zone."""
    size = len(modules) + 2 * QUIET_ZONE
    light = [1] * size
    rows = [light] * QUIET_ZONE + [[1] * QUIET_ZONE + [1 - m for m in row] + [1] * QUIET_ZONE
                                   for row in modules] + [light] * QUIET_ZONE
    raw = bytearray()
    for row in rows:
        line = b"\x00" + bytes(255 * m for m in row for _ in range(scale))  # filter type 0, then pixels
        raw += line * scale
    width = size * scale

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + \
        chunk(b"IEND", b"")


def write_png(text, folder, name):
    """Write the QR code of `text` to folder/name (replacing an earlier one atomically); returns the
    path, or None when no QR code can be made here."""
    modules = matrix(text)
    if modules is None:
        return None
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    replace_file(path, png_bytes(modules))
    return path
