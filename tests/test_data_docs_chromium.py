"""The Data Docs site as a reviewer's browser shows it: offline, under a strict CSP, screenshots kept.

Headless Chromium gets no network beyond the loopback server holding the published site (every
host name fails to resolve and everything else goes to a dead proxy), and the server adds
``Content-Security-Policy: default-src 'self'``. A same-origin check script (allowed by that
policy, unlike an inline one) records policy violations and computed styles into the DOM, which
``--dump-dom`` returns. The same pages open styled straight from disk, as a downloaded copy would.
"""

from __future__ import annotations

import functools
import re
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from browser import FLAGS
from conftest import REPO, csv_text, row
from docs_pages import mixed_rows
from vitalflow.config import Settings
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

CSP = "default-src 'self'"
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--virtual-time-budget=5000",
]
CHECK_JS = """
let violations = 0;
document.addEventListener('securitypolicyviolation', () => { violations += 1; });
window.addEventListener('load', () => {
  const body = document.body;
  const style = (selector, property) => {
    const element = document.querySelector(selector);
    return element ? getComputedStyle(element).getPropertyValue(property) : 'missing';
  };
  body.dataset.violations = String(violations);
  body.dataset.sheets = String(document.styleSheets.length);
  try {  // file:// pages may not read their sheets' rules (each file is its own origin)
    body.dataset.rules = String(Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0));
  } catch (error) {
    body.dataset.rules = 'unreadable';
  }
  body.dataset.headerBackground = style('.site-header', 'background-color');
  body.dataset.font = style('body', 'font-family');
  body.dataset.collapse = style('table', 'border-collapse');
  body.dataset.badge = style('.badge.failed', 'color');
  body.dataset.batches = String(document.querySelectorAll('table.batches tbody tr a').length);
  body.dataset.sections = String(document.querySelectorAll('section.column').length);
  body.dataset.scripts = String(document.scripts.length);
  body.dataset.images = String(document.images.length);
});
"""
BRAND = "rgb(11, 92, 171)"  # --brand in docs.css
BAD = "rgb(179, 38, 30)"  # --bad


class Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def site(tmp_path):
    """A published site with two batches, one full of markup in its values and name."""
    runtime = local_runtime(Settings(home=tmp_path / "lake", chunk_rows=20))
    hostile = [
        row(heart_rate="<script>document.title='pwned'</script>"),
        row(temp_c="<img src=x onerror=\"document.title='pwned'\">"),
        row(user_id="<style>body{display:none}</style>"),
    ]
    outcomes = []
    for name, rows in (("ward <7> & co.csv", mixed_rows() + hostile), ("clean.csv", [row()])):
        source = tmp_path / "in" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(csv_text(rows), encoding="utf-8")
        outcomes.append(run_file(runtime, source))
    assert runtime.home is not None
    docs = runtime.home / "docs"
    (docs / "check.js").write_text(CHECK_JS, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(docs)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield docs, f"http://127.0.0.1:{server.server_address[1]}/", outcomes
    finally:
        server.shutdown()
        server.server_close()


def with_check(page: Path, script: str = "/check.js") -> Path:
    """A copy of the page, next to it, that loads the check script first (same origin)."""
    checked = page.with_name("checked-" + page.name)
    html = page.read_text(encoding="utf-8")
    checked.write_text(
        html.replace("<head>", f'<head>\n<script src="{script}"></script>', 1), encoding="utf-8"
    )
    return checked


def dom(chromium: str, profile: Path, url: str) -> dict[str, str]:
    out = subprocess.run(
        [chromium, *FLAGS, *OFFLINE, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    body = re.search(r"<body([^>]*)>", out)
    assert body, out[:2000]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def screenshot(chromium: str, profile: Path, url: str, name: str) -> None:
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / name
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            chromium,
            *FLAGS,
            *OFFLINE,
            f"--user-data-dir={profile}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


@pytest.mark.slow
def test_site_works_offline_under_a_strict_csp(chromium, site, tmp_path):
    docs, base, outcomes = site
    batch = outcomes[0].batch_id
    profile = tmp_path / "profile"

    index = dom(chromium, profile, base + with_check(docs / "index.html").name)
    assert index["violations"] == "0" and index["sheets"] == "1" and int(index["rules"]) > 20, index
    assert index["header-background"] == BRAND and index["collapse"] == "collapse", index
    assert index["batches"] == "2" and index["scripts"] == "1", index  # only the check script

    page = dom(
        chromium, profile, base + "validations/" + with_check(docs / "validations" / f"{batch}.html").name
    )
    assert page["violations"] == "0" and page["header-background"] == BRAND and page["badge"] == BAD, page
    assert page["sections"] == "9" and page["scripts"] == "1" and page["images"] == "0", (
        page
    )  # markup stayed text

    # from a folder on disk (file:// scripts are not 'self', so this copy drops the page's own policy)
    on_disk = with_check(docs / "index.html", "check.js")
    on_disk.write_text(re.sub(r"<meta http-equiv=[^>]*>", "", on_disk.read_text(encoding="utf-8")))
    from_disk = dom(chromium, profile, on_disk.as_uri())
    assert from_disk["header-background"] == BRAND and from_disk["batches"] == "2", from_disk

    screenshot(chromium, profile, base + "index.html", "docs-index.png")
    screenshot(chromium, profile, f"{base}validations/{batch}.html", "docs-batch.png")
