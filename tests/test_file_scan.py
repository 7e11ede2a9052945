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


@pytest.mark.parametrize("first", [b"\n", b" \t\r\n"])
def test_a_header_that_fails_stops_the_split_scan_at_once(tmp_path, monkeypatch, first):
    """Cutting splits in the hash pass waits for the header; a header that fails the file must not
    leave the scanner holding every block until the end (a 50 GB upload on the Spark driver)."""
    monkeypatch.setattr(reader, "_BLOCK", 64)
    monkeypatch.setattr(reader, "_HEAD", 100)  # the header is known after two blocks
    held: list[int] = []
    feed = reader.RangeScanner.feed

    def counting_feed(self, block):
        feed(self, block)
        held.append(len(self._blocks))

    monkeypatch.setattr(reader.RangeScanner, "feed", counting_feed)
    path = tmp_path / "vitals.csv"
    path.write_bytes(first + HEADER + b"2026-11-20T08:00:00Z,u-1,72,98,10,36.6,120,80\n" * 200)
    with pytest.raises(NotCsv, match="first line is empty"):
        reader.scan_stream(reader.file_opener(path), split_bytes=256)
    assert held and max(held) <= 3, held
    good = tmp_path / "good.csv"
    good.write_bytes(path.read_bytes()[len(first) :])
    held.clear()
    scan = reader.scan_stream(reader.file_opener(good), split_bytes=256)
    assert len(scan.splits) == -(-(scan.size - reader.data_start(scan)) // 256)
    assert max(held) <= 3 and len(held) == -(-good.stat().st_size // 64), held
