"""Read a vitals CSV safely: check the bytes once, then stream its records in bounded chunks.

The first pass hashes the file (the batch id), and proves it is UTF-8 text and not a compressed,
binary or UTF-16/32 file, naming the problem and its line. The second pass is the record parser
(``vitalflow.validate.records``): the only code that decides where a row begins and ends.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.exceptions import BadEncoding, BatchRejected, Compressed, EmptyFile, MissingColumns, NotCsv
from vitalflow.validate import records
from vitalflow.validate.records import RawChunk
from vitalflow.validate.splits import RangeScanner, Split

_BLOCK = 8 << 20
_NO_LINES = np.empty(0, dtype=np.int64)
_BOM = b"\xef\xbb\xbf"
_HEAD = len(_BOM) + records.MAX_RECORD_BYTES  # the start of the file the header is read from
# Longest prefixes first: UTF-32 LE starts with the UTF-16 LE mark.
_MAGIC: tuple[tuple[bytes, type[BatchRejected], str], ...] = (
    (b"\xff\xfe\x00\x00", BadEncoding, "UTF-32 (little-endian) encoded; re-export it as UTF-8 CSV"),
    (b"\x00\x00\xfe\xff", BadEncoding, "UTF-32 (big-endian) encoded; re-export it as UTF-8 CSV"),
    (b"\xff\xfe", BadEncoding, "UTF-16 (little-endian) encoded; re-export it as UTF-8 CSV"),
    (b"\xfe\xff", BadEncoding, "UTF-16 (big-endian) encoded; re-export it as UTF-8 CSV"),
    (b"\x1f\x8b", Compressed, "gzip-compressed; upload the uncompressed CSV (gunzip it first)"),
    (b"BZh", Compressed, "bzip2-compressed; upload the uncompressed CSV (bunzip2 it first)"),
    (b"\xfd7zXZ\x00", Compressed, "xz-compressed; upload the uncompressed CSV (unxz it first)"),
    (b"\x28\xb5\x2f\xfd", Compressed, "zstd-compressed; upload the uncompressed CSV (unzstd it first)"),
    (
        b"PK\x03\x04",
        Compressed,
        "a ZIP archive (or an Excel workbook); extract it or export the sheet as CSV (UTF-8)",
    ),
    (b"PK\x05\x06", Compressed, "an empty ZIP archive; upload the CSV itself"),
    (b"7z\xbc\xaf\x27\x1c", Compressed, "a 7-Zip archive; extract the CSV and upload it"),
    (b"PAR1", NotCsv, "a Parquet file; vitalflow takes CSV uploads"),
    (b"%PDF", NotCsv, "a PDF document, not a CSV"),
)


@dataclass(frozen=True)
class Header:
    columns: list[str]  # normalised names (trimmed, lower case), in file order
    extra: list[str]  # columns beyond the contract, ignored and reported
    lines: int = 1  # physical lines the header spans (a quoted name may hold a line break)
    size: int = 0  # its bytes, after any BOM


@dataclass(frozen=True)
class FileScan:
    """What the first pass over the bytes established about the file."""

    sha256: str
    size: int
    has_bom: bool
    header: Header
    splits: tuple[Split, ...] = ()  # the data cut for a parallel engine (``scan_stream``'s split_bytes)


Opener = Callable[[], AbstractContextManager[BinaryIO]]  # opens the file's bytes from the start


def scan_file(path: Path) -> FileScan:
    """Hash the file and check it is UTF-8 text with the required header; raise BatchRejected if not."""
    return scan_stream(file_opener(path))


def file_opener(path: Path) -> Opener:
    """The file's bytes from the start, each time it is called."""

    def open_bytes() -> BinaryIO:
        return path.open("rb")

    return open_bytes


def scan_stream(open_bytes: Opener, split_bytes: int | None = None) -> FileScan:
    """``scan_file`` of bytes read once from the start (an object store's stream: the Spark engine's
    driver keeps no copy of the upload); a file that fails is read again to name the failing line.

    ``split_bytes``: also cut the data into splits of about that size (``splits``) in the same pass.
    """
    scanner = RangeScanner(split_bytes) if split_bytes else None
    record: _Record | None = None  # the header record, parsed early for the scanner
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    size, start = 0, b""
    with open_bytes() as fh:
        while True:
            block = fh.read(_BLOCK)
            if not block:
                break
            if not size:
                _check_magic(block[:8])
            if len(start) <= _HEAD:
                start += block[: _HEAD + 1 - len(start)]
            digest.update(block)
            if b"\x00" in block:
                at = _line_at(open_bytes, size + block.index(b"\x00"))
                raise NotCsv(f"the file contains binary data (a NUL byte on line {at}); it is not a CSV")
            pending = decoder.getstate()[0]  # the end of a character the last block began
            if pending or not block.isascii():  # ASCII, most files: valid UTF-8 without decoding
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad = (pending + block)[exc.start]
                    at = _line_at(open_bytes, size - len(pending) + exc.start)
                    raise BadEncoding(
                        f"the file is not valid UTF-8 (byte 0x{bad:02x} on line {at}); "
                        "re-export it as UTF-8 CSV"
                    ) from None
            size += len(block)
            if scanner is not None and scanner.data_start is None and len(start) > _HEAD:
                scanner, record = _begun(scanner, start)
            if scanner is not None:
                scanner.feed(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise BadEncoding(
                "the file ends in the middle of a UTF-8 character; it may be truncated"
            ) from None
    header, has_bom = _header_from(start, size, record)
    splits: tuple[Split, ...] = ()
    if scanner is not None:
        if scanner.data_start is None:
            scanner.begin(_data_offset(header.size, has_bom))
        splits = tuple(scanner.plan(header.lines + 1))
    return FileScan(sha256=digest.hexdigest(), size=size, has_bom=has_bom, header=header, splits=splits)


_Record = tuple[list[str], int, int, bool]  # ``records.header_of``'s answer


def _header_from(start: bytes, size: int, record: _Record | None) -> tuple[Header, bool]:
    """The header of a file of ``size`` bytes that begins with ``start``, and whether it has a BOM
    (``record``: its first record, if parsed already)."""
    if size == 0:
        _check_magic(b"")
    has_bom = start.startswith(_BOM)
    if size == len(_BOM) and has_bom:
        raise EmptyFile("the file is empty (0 bytes)")
    fields, header_size, header_lines, well_formed = record or records.header_of(start, has_bom)
    header = _parse_header(fields, header_lines, header_size)
    if not well_formed:
        raise NotCsv(
            "the header line has a stray or unbalanced quote; it must be comma-separated column names"
        )
    return header, has_bom


def _begun(scanner: RangeScanner, start: bytes) -> tuple[RangeScanner | None, _Record | None]:
    """``scanner`` told where the data begins in a file that begins with ``start``, and the header
    record; no scanner if the header fails the file (raised once the whole file passed the other
    checks): a scanner that never begins would hold every block."""
    has_bom = start.startswith(_BOM)
    try:
        record = records.header_of(start, has_bom)
    except BatchRejected:
        return None, None
    scanner.begin(_data_offset(record[1], has_bom))
    return scanner, record


def _data_offset(header_size: int, has_bom: bool) -> int:
    return header_size + (len(_BOM) if has_bom else 0)


def _line_at(open_bytes: Opener, offset: int) -> int:
    """The line holding byte ``offset``, counted by reading the file to it again: the pass that
    hashes the file counts nothing, so only a file that fails pays for the count."""
    lines, last = 1, b""
    with open_bytes() as fh:
        while offset > 0:
            block = fh.read(min(_BLOCK, offset))
            if not block:
                break
            offset -= len(block)
            lines += _lines_in(block) - (last == b"\r" and block.startswith(b"\n"))  # CRLF across blocks
            last = block[-1:]
    return lines


def _lines_in(data: bytes) -> int:
    """Line breaks in ``data``: LF, CRLF and a lone CR each end a line."""
    returns = data.count(b"\r")
    return data.count(b"\n") + returns - (data.count(b"\r\n") if returns else 0)


def _check_magic(head: bytes) -> None:
    if not head:
        raise EmptyFile("the file is empty (0 bytes)")
    for magic, error, what in _MAGIC:
        if head.startswith(magic):
            raise error(f"the file is {what}")
    if len(head) >= 4 and head[0] and not head[1] and not head[2] and not head[3]:
        raise BadEncoding("the file looks UTF-32 encoded (no byte-order mark); re-export it as UTF-8 CSV")
    if len(head) >= 4 and (
        (head[0] and not head[1] and head[2] and not head[3])
        or (not head[0] and head[1] and not head[2] and head[3])
    ):
        raise BadEncoding("the file looks UTF-16 encoded (no byte-order mark); re-export it as UTF-8 CSV")


def _parse_header(fields: list[str], lines: int, size: int) -> Header:
    names = [name.strip().lower() for name in fields]
    seen: set[str] = set()
    for name in names:
        if name in seen and name in REQUIRED_COLUMNS:
            raise MissingColumns(f"column {name!r} appears twice in the header")
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        hint = ""
        text = ",".join(fields)
        if len(names) == 1 and any(sep in text for sep in (";", "\t", "|")):
            hint = " The header looks delimited by something other than commas; use comma-separated values."
        elif not seen & set(REQUIRED_COLUMNS):
            hint = " The first line must be the header: " + ",".join(REQUIRED_COLUMNS) + "."
        shown = ", ".join(_printable(n[:40]) for n in names[:20]) or "none"
        raise MissingColumns(f"missing required column(s): {', '.join(missing)}; found: {shown}.{hint}")
    return Header(
        columns=names, extra=[n for n in names if n not in REQUIRED_COLUMNS], lines=lines, size=size
    )


def data_start(scan: FileScan) -> int:
    """The offset of the first record after the header (and any BOM)."""
    return _data_offset(scan.header.size, scan.has_bom)


def iter_chunks(
    path: Path, scan: FileScan, chunk_rows: int, split: Split | None = None
) -> Iterator[RawChunk]:
    """The records after the header in chunks of ``chunk_rows`` rows (the last fewer), in file order.

    ``split``: only the records of that split (validate/splits.py), with the whole file's line numbers.
    """
    keep = {name: scan.header.columns.index(name) for name in REQUIRED_COLUMNS}
    start, first_line, stop = data_start(scan), scan.header.lines + 1, None
    if split is not None:
        start, first_line, stop = split.start, split.first_line, split.stop
    pending: list[RawChunk] = []
    for block in records.iter_blocks(
        path, start=start, first_line=first_line, width=len(scan.header.columns), keep=keep, stop=stop
    ):
        pending.append(block)
        while sum(b.table.num_rows for b in pending) >= chunk_rows:
            chunk = _joined(pending)
            yield RawChunk(
                chunk.table.slice(0, chunk_rows),
                chunk.lines[:chunk_rows],
                chunk.malformed_lines,
                chunk.malformed_text,
                chunk.blank,
                chunk.end,
            )
            rest = RawChunk(
                chunk.table.slice(chunk_rows), chunk.lines[chunk_rows:], _NO_LINES, [], 0, chunk.end
            )
            pending = [rest]
    last = _joined(pending) if pending else None
    if last is not None and (last.table.num_rows or len(last.malformed_lines) or last.blank):
        yield last


def _joined(blocks: list[RawChunk]) -> RawChunk:
    return RawChunk(
        table=pa.concat_tables([b.table for b in blocks]),
        lines=np.concatenate([b.lines for b in blocks]),
        malformed_lines=np.concatenate([b.malformed_lines for b in blocks]),
        malformed_text=[text for b in blocks for text in b.malformed_text],
        blank=sum(b.blank for b in blocks),
        end=blocks[-1].end,
    )


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)
