"""The spreadsheet formula guard shared by everything that hands data values to people.

Rejected rows keep their raw values, so text such as ``=HYPERLINK("http://...")`` reaches reports
and exports verbatim. A spreadsheet opening a CSV export or a pasted email would run it as a
formula; a leading apostrophe makes it show as the text it is (the OWASP "CSV injection" advice).
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> str:
    """``value`` as text, with an apostrophe in front when it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
