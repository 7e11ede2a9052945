"""The live dashboard in Debian's Chromium (Playwright with executable_path, no browser download):
a batch run by another process appears and moves to "emailed" without a reload, the trend chart is
drawn, and hostile file and source names show as text. Screenshots go to test-artifacts/ (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from browser import FLAGS
from conftest import REPO, csv_text, row
from dashboard_server import free_port, serving

pytestmark = pytest.mark.slow
HOSTILE_FILE = "<img src=x onerror=window.pwned=1>-2026-11-22.csv"
HOSTILE_SOURCE = "</script><script>window.pwned=2</script>"


def run_in_other_process(home: Path, path: Path, *extra: str) -> dict:
    command = [sys.executable, "-m", "vitalflow.cli", "--home", str(home), "run", "--json", *extra, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_batch_appears_and_moves_to_emailed_without_a_reload(chromium, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    home = tmp_path / "lake"
    first = tmp_path / "clinic-a-2026-11-21.csv"
    first.write_text(csv_text([row(), row(user_id="u-2", spo2="80"), row(heart_rate="abc")]))
    run_in_other_process(home, first)  # history: the chart has a point before the page opens
    hostile = tmp_path / HOSTILE_FILE
    hostile.write_text(csv_text([row(user_id="u-3"), row(user_id="u-4", heart_rate="999")]))
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    port = free_port()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 700})
            with serving(home, port=port) as server:
                page.goto(server.base + "/")
                page.wait_for_selector('#conn[data-state="open"]', timeout=15_000)
                page.wait_for_selector('#charts[data-drawn="1"] circle.rate-point', timeout=10_000)
                page.evaluate("window.sameDocument = 'yes'")
            page.wait_for_selector('#conn[data-state="closed"]', timeout=10_000)  # the server went away
            with serving(home, port=port) as server:  # and came back: the page reconnects by itself
                page.wait_for_selector('#conn[data-state="open"]', timeout=15_000)
                outcome = run_in_other_process(home, hostile, "--source", HOSTILE_SOURCE)
                emailed = f'tr[data-id="{outcome["batch_id"]}"][data-status="emailed"]'
                page.wait_for_selector(emailed, timeout=20_000)
                page.wait_for_selector('#charts[data-drawn="2"]', timeout=10_000)
                page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
                assert page.evaluate("window.sameDocument") == "yes"  # updated in place, never reloaded
                statuses = [m["status"] for m in page.evaluate("window.vitalflowApplied")]
                assert statuses[-1] == "emailed" and "validating" in statuses and "analysed" in statuses
                row_text = page.inner_text(emailed)
                assert HOSTILE_SOURCE in row_text and HOSTILE_FILE in row_text  # shown as text
                assert page.evaluate("typeof window.pwned") == "undefined"
                assert page.locator("#batches img, #batches script, #charts script").count() == 0
                assert HOSTILE_SOURCE in page.inner_text("#charts")
                assert "u-3" not in page.content() and "999" not in page.inner_text("#batches")
                for label in ("Data Docs", "report"):  # the row's links open the batch's pages
                    href = page.get_attribute(f"{emailed} a:text-is('{label}')", "href")
                    assert urllib.request.urlopen(server.base + href, timeout=10).status == 200
        finally:
            browser.close()
