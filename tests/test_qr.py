"""The login QR code: made on the device, and a phone's reader gets the exact PIN address from it."""
import pytest
import zxingcpp
from PIL import Image

from lib.scrobbler.ui import qr


@pytest.mark.parametrize("text", ["https://simkl.com/pin/7K3QX", "https://simkl.com/pin/ABCD-1234"])
def test_the_png_decodes_to_the_pin_address(tmp_path, text):
    path = qr.write_png(text, str(tmp_path), "login-qr.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert image.size[0] == image.size[1] >= 200
        [found] = zxingcpp.read_barcodes(image)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.text == text


def test_the_code_has_a_white_quiet_zone_of_four_modules(tmp_path):
    path = qr.write_png("https://simkl.com/pin/7K3QX", str(tmp_path), "q.png")
    modules = len(qr.matrix("https://simkl.com/pin/7K3QX"))
    with Image.open(path) as image:
        scale = image.size[0] // (modules + 2 * qr.QUIET_ZONE)
        border = qr.QUIET_ZONE * scale
        edge = [image.getpixel((x, y)) for x in range(image.size[0]) for y in range(border)]
        assert set(edge) == {255}
        assert image.getpixel((border, border)) == 0  # the top-left finder pattern starts right after it


def test_without_pyqrcode_there_is_no_qr_code_and_no_error(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "pyqrcode", None)  # an import of it now fails, as in a Kodi without it
    assert qr.write_png("https://simkl.com/pin/7K3QX", str(tmp_path), "q.png") is None
    assert list(tmp_path.iterdir()) == []
