"""The report in a real browser: headless Chromium loads it offline, every section and image shows.

Skips, saying why, when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG, run_cli

from bamnet_core.runs import layout

SECTIONS = ("verdict", "headline", "probes", "plots", "metrics", "export", "protocol", "data",
            "gradcam", "claims", "config", "checklists")
# Appended to a copy of the report only: after load, count images that did not decode.
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-broken',
      imgs.filter(i => !i.complete || i.naturalWidth === 0).length);
  document.body.setAttribute('data-sections',
      [...document.querySelectorAll('section')].map(s => s.id).join(','));
});
</script>"""


def chromium() -> str | None:
    """The Chromium executable, if one is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "headless_shell"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browse(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``page`` with no network."""
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", *args,
         page.as_uri()], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed "
                    "(apt-get install chromium); the report is not checked in a browser")
def test_report_renders_in_headless_chromium(tmp_path: Path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG)
    result = run_cli("run", str(config), "--output-dir", str(tmp_path / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    report = run_dir / layout.REPORT
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    browser = chromium()
    dom = browse(browser, probed, "--virtual-time-budget=10000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout).group(1)
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body))
    assert attrs["sections"].split(",") == list(SECTIONS)
    assert int(attrs["images"]) >= 8 and attrs["broken"] == "0"
    shot = run_dir / "report-screenshot.png"
    taken = browse(browser, report, f"--screenshot={shot}", "--window-size=1200,6000")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
