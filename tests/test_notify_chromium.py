"""The report as a mail reader would show it: rendered by headless Chromium, screenshot kept."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from browser import FLAGS
from conftest import REPO
from vitalflow.config import Settings
from vitalflow.generate import GeneratorOptions, generate
from vitalflow.pipeline import run_file
from vitalflow.runtime import local_runtime

CHECK = """<script>
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const broken = images.filter((i) => !i.complete || i.naturalWidth === 0).length;
  document.body.setAttribute('data-images', String(images.length));
  document.body.setAttribute('data-broken', String(broken));
});
</script>"""


@pytest.mark.slow
def test_report_renders_with_no_broken_images(chromium, tmp_path):
    runtime = local_runtime(Settings(home=tmp_path / "lake"))
    source = generate(GeneratorOptions(rows=4000, seed=5), tmp_path / "clinic.csv")
    outcome = run_file(runtime, source)
    assert outcome.report and outcome.report.endswith(".eml")
    preview = Path(outcome.report).with_suffix(".html")
    checked = tmp_path / "checked.html"
    checked.write_text(preview.read_text().replace("</body>", CHECK + "</body>"))
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            checked.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-images="1"' in dom and 'data-broken="0"' in dom, re.findall(r"<body[^>]*>", dom)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=720,2400",
            f"--screenshot={shot}",
            preview.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
