"""The pass that hashes a file names the line of its first bad byte exactly, wherever the blocks it
reads end (it counts no lines until a byte fails), and reads a stream as it reads a file."""

from __future__ import annotations

import io
import random
import re
from contextlib import nullcontext

import pytest

from vitalflow.exceptions import BadEncoding, NotCsv
from vitalflow.validate import reader

HEADER = b"event_time,user_id,heart_rate,spo2,steps,temp_c,systolic_bp,diastolic_bp\n"
PIECES = [b"a", b"7", b",", b"\r", b"\n", b"\r\n", "é".encode(), "✓".encode()]


def line_of(data: bytes, offset: int) -> int:
    """The reference: one plus the line breaks (CRLF, a lone CR, LF) before ``offset``."""
    return 1 + len(re.findall(rb"\r\n|\r|\n", data[:offset]))


@pytest.mark.parametrize("block", [1, 2, 3, 5, 64])
@pytest.mark.parametrize("bad", [b"\x00", b"\xff", b"\xe2\x9c"])  # NUL; not UTF-8; a cut character
def test_the_failing_line_is_exact_wherever_blocks_end(tmp_path, monkeypatch, block, bad):
    monkeypatch.setattr(reader, "_BLOCK", block)
    rng = random.Random(block * 7 + bad[0])
    path = tmp_path / "vitals.csv"
    for _ in range(60):
        body = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
        at = rng.randint(0, len(body))
        data = HEADER + body[:at] + bad + b"a" + body[at:]  # "a": a cut character stays cut
        path.write_bytes(data)
        with pytest.raises((BadEncoding, NotCsv)) as caught:
            reader.scan_file(path)
        assert f"line {line_of(data, len(HEADER) + at)})" in str(caught.value), (data, str(caught.value))


def test_a_stream_scans_as_the_file_does(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK", 7)
    data = b"\xef\xbb\xbf" + HEADER + "2026-11-20T00:00:00Z,ü-1,70,98,0,36.6,120,80\r\n".encode() * 20
    path = tmp_path / "vitals.csv"
    path.write_bytes(data)
    assert reader.scan_stream(lambda: nullcontext(io.BytesIO(data))) == reader.scan_file(path)
