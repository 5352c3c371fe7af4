import json
import stat
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.imagepackage import asxipfs


def test_sdk_format_filesystem_parses_and_rebuilds_byte_identical(sdk_format_package):
    size = int.from_bytes(sdk_format_package[4:8], "little")
    fs = asxipfs.parse(sdk_format_package[:size])
    assert {"/app_manifest.json", "/bin", "/bin/app"} <= {e.path for e in fs.entries}
    assert json.loads(fs.read("/app_manifest.json"))["SchemaVersion"] == 1
    assert fs.read("bin/app")[:4] == b"\x7fELF"
    files = {e.path: (fs.files[e.path], e.mode) for e in fs.entries if not e.is_dir}
    assert asxipfs.build(files) == sdk_format_package[:size]


def test_build_layout_is_aligned_and_crc_checked():
    image = asxipfs.build({"/a": (b"x" * 5000, 0o644), "/d/e/f": (b"deep", 0o755), "/empty": (b"", 0o644)})
    assert len(image) % 4096 == 0
    fs = asxipfs.parse(image)
    assert fs.read("/d/e/f") == b"deep" and fs.read("/empty") == b""
    assert all(e.offset % 4096 == 0 for e in fs.entries if not e.is_dir and e.size)
    assert stat.S_IMODE(fs.mode("/d/e/f")) == 0o1755
    broken = bytearray(image)
    broken[0x1000] ^= 1
    with pytest.raises(asxipfs.AsxipfsError) as err:
        asxipfs.parse(bytes(broken))
    assert err.value.reason == "bad-crc"


@pytest.mark.parametrize("offset,value,reason", [
    (0, b"\0\0\0\0", "bad-magic"),
    (4, (1 << 30).to_bytes(4, "little"), "bad-size"),
    (16, b"X" * 16, "bad-signature-string"),
    (8, (0x80).to_bytes(4, "little"), "bad-flags"),
])
def test_header_errors(offset, value, reason):
    image = bytearray(asxipfs.build({"/f": (b"1", 0o644)}))
    image[offset:offset + len(value)] = value
    with pytest.raises(asxipfs.AsxipfsError) as err:
        asxipfs.parse(bytes(image), check_crc=False)
    assert err.value.reason == reason


def test_directory_loop_and_out_of_bounds_are_rejected():
    image = bytearray(asxipfs.build({"/d/f": (b"1", 0o644)}))
    # Point /d's entries back at the root's entries: a loop the walker must refuse.
    root_off = (int.from_bytes(image[0x48:0x4C], "little") >> 6) * 4
    word = int.from_bytes(image[root_off + 8:root_off + 12], "little")
    image[root_off + 8:root_off + 12] = ((word & 0x3F) | (root_off // 4) << 6).to_bytes(4, "little")
    image[0x20:0x24] = b"\0\0\0\0"
    image[0x20:0x24] = zlib.crc32(bytes(image)).to_bytes(4, "little")
    with pytest.raises(asxipfs.AsxipfsError) as err:
        asxipfs.parse(bytes(image))
    assert err.value.reason in ("loop", "unsorted", "bad-dir")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_parse_never_crashes_on_garbage(data):
    try:
        asxipfs.parse(data)
    except asxipfs.AsxipfsError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_parse_never_crashes_on_mutated_images(data):
    image = bytearray(asxipfs.build({"/app_manifest.json": (b"{}", 0o644), "/bin/app": (b"\x7fELF" * 9, 0o755)}))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, 0x200))
        image[pos] = data.draw(st.integers(0, 255))
    try:
        fs = asxipfs.parse(bytes(image), check_crc=data.draw(st.booleans()))
        for entry in fs.entries:
            assert entry.path.startswith("/")
    except asxipfs.AsxipfsError:
        pass
