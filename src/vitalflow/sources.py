"""A batch's source: the uploader's feed, so that batches can be grouped and trended per clinic.

Uploaders name their files after their feed and the day (``clinic-a-2026-11-22.csv``); the feed is
what is left once the extension and a trailing date are gone. On AWS an uploader may instead write
under ``raw/<source>/``, and locally ``vitalflow run --source`` names it: both win over the file
name. A folder that is itself a date (``raw/2026-11-22/...``, the local lake's layout) names no feed.

Names come from outside, so they are only cleaned of what cannot be shown on one line (control
characters, surrounding blanks); every page and message escapes them like any other text.
"""

from __future__ import annotations

import re

from vitalflow.exceptions import BadSourceName

UNKNOWN = "unknown"  # a file named only by its date (2026-11-22.csv) names no feed
MAX_LENGTH = 64
_RAW = "raw/"  # lake.RAW; not imported, so that models.py can use this module cheaply
_COMPRESSED = re.compile(r"\.(gz|gzip|bz2|xz|zip|zst)$", re.IGNORECASE)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_TRAILING_DATE = re.compile(r"(?:\d{4}([-_.]?)\d{2}\1\d{2})$")
_SEPARATORS = "-_. "
_DATE_FOLDER = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def from_file_name(name: str) -> str:
    """``clinic-a-2026-11-22.csv`` -> ``clinic-a``: extension, then a trailing date, then separators."""
    stem = _COMPRESSED.sub("", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem = _EXTENSION.sub("", stem).rstrip(_SEPARATORS)
    stem = _TRAILING_DATE.sub("", stem).strip(_SEPARATORS)
    return printable(stem) or UNKNOWN


def from_key(key: str) -> str:
    """The source of an object in the lake: ``raw/<source>/...`` when present, else the file name's."""
    parts = key.split("/")
    if len(parts) >= 3 and parts[0] + "/" == _RAW and parts[1] and not _DATE_FOLDER.match(parts[1]):
        folder = printable(parts[1])
        if folder:
            return folder
    return from_file_name(parts[-1])


def given(name: str) -> str:
    """A source named by the user (``--source``): the same cleaning, and an error rather than a guess."""
    cleaned = printable(name)
    if not cleaned or cleaned != name.strip():
        raise BadSourceName(
            f"--source {name!r} is not a usable source name: give 1 to {MAX_LENGTH} printable characters"
        )
    return cleaned


def printable(name: str) -> str:
    """One line of printable text, at most ``MAX_LENGTH`` characters (no control or separator characters)."""
    return " ".join(_UNPRINTABLE.sub(" ", name).split())[:MAX_LENGTH].strip()
