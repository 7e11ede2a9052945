"""No rejected value becomes markup, and no raw field text reaches the Data Docs.

The Big List of Naughty Strings goes through a real batch, one string per row in a rotating
column (user ids included), in a file whose own name is markup. Every published docs file is then
parsed: only the templates' own tags and attributes may appear, and no naughty string may appear
in the HTML, escaped or not, unless the same word is already part of a page built from clean data
(template vocabulary such as "Batch").
"""

from __future__ import annotations

import html as htmllib
import json
from pathlib import Path

from conftest import REPO, csv_text, row
from docs_pages import parse
from vitalflow.config import Settings
from vitalflow.contract import REQUIRED_COLUMNS
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

CORPUS = REPO.parent / "shared" / "corpora" / "naughty-strings" / "blns.json"
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "body", "header", "a", "span", "main", "h1", "h2", "h3",
    "p", "div", "table", "thead", "tbody", "tr", "th", "td", "code", "section", "details", "summary",
    "footer", "ul", "li",
}  # fmt: skip
TEMPLATE_ATTRIBUTES = {"lang", "charset", "name", "content", "http-equiv", "rel", "href", "class", "id"}
SECRET_USER = "patient-jane-doe-1985"


def naughty_strings() -> list[str]:
    # control characters other than tab/newline make the file "not CSV" as a whole (tested elsewhere)
    strings = json.loads(CORPUS.read_text(encoding="utf-8"))
    return [s for s in strings if s and not any(ord(c) < 32 and c not in "\t\n" for c in s)]


def run_batch(tmp_path: Path, rows: list[dict[str, str]], name: str):
    runtime = local_runtime(Settings(home=tmp_path / name.replace("<", "").replace(">", ""), chunk_rows=97))
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(csv_text(rows), encoding="utf-8")
    outcome = run_file(runtime, source)
    assert outcome.status != "failed", outcome.error
    assert runtime.home is not None
    return outcome, runtime.home


def test_naughty_strings_never_become_markup_or_appear_in_the_docs(tmp_path):
    strings = naughty_strings()
    assert len(strings) > 400
    columns = list(REQUIRED_COLUMNS)
    rows = [row(**{columns[i % len(columns)]: s}) for i, s in enumerate(strings)]
    rows.append(row(user_id=SECRET_USER, heart_rate="<script>alert('x')</script>"))
    rows.append(row(user_id=SECRET_USER, temp_c="<img src=x onerror=alert(1)>"))
    outcome, home = run_batch(tmp_path, rows, "ward-<img src=x onerror=alert(1)>.csv")
    assert outcome.rows_rejected and outcome.rows_rejected > 300
    _clean, clean_home = run_batch(tmp_path, [row(user_id=f"u{i}") for i in range(5)], "clean.csv")
    vocabulary = "\n".join(
        p.read_text(encoding="utf-8") for p in (clean_home / "docs").rglob("*") if p.is_file()
    )

    published = [p for p in (home / "docs").rglob("*") if p.is_file()]
    # Data Docs pages; the report pages beside them (docs/reports/, the notify templates' markup) are
    # held to the same no-leak checks below through ``everything``
    pages = [p for p in published if p.suffix == ".html" and p.parent.name != "reports"]
    assert [p for p in published if p.parent.name == "reports"]
    assert {p.parent.name for p in pages} >= {"docs", "validations", "months"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        tags = parse(text)
        assert set(tags.tags) <= TEMPLATE_TAGS, (page.name, set(tags.tags) - TEMPLATE_TAGS)
        assert tags.attributes <= TEMPLATE_ATTRIBUTES, (page.name, tags.attributes - TEMPLATE_ATTRIBUTES)
        assert "onerror" not in text.replace("onerror=alert(1)&gt;.csv", "")  # only the escaped file name
        assert "<script" not in text.lower() and " style=" not in text.lower()
    batch_page = Path(outcome.docs or "").read_text(encoding="utf-8")
    assert "ward-&lt;img src=x onerror=alert(1)&gt;.csv" in batch_page  # the file name, escaped

    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in published)
    visible = "\n".join(" ".join(parse(p.read_text(encoding="utf-8")).text) for p in pages)
    leaked = []
    for value in [*strings, "<script>alert('x')</script>"]:
        probe = value.strip()
        if len(probe) < 4 or probe in vocabulary or htmllib.escape(probe) in vocabulary:
            continue
        if probe in everything or htmllib.escape(probe) in everything or probe in visible:
            leaked.append(probe)
    assert not leaked, leaked[:10]
    assert SECRET_USER not in everything
