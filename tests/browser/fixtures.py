"""Headless Chromium for tests that look at a page as a person would (a screenshot).

The ``chromium`` session fixture installs Debian's ``chromium`` package with
``install-chromium.sh`` (the script ``.ci/run`` also runs) when ``/usr/bin/chromium`` is
missing; the test is skipped, with the reason, only where it cannot be installed (not root,
no apt-get).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

import pytest

CHROMIUM: Final = Path("/usr/bin/chromium")
INSTALL: Final = Path(__file__).with_name("install-chromium.sh")
INSTALL_TIMEOUT: Final = 900  # seconds: a cold apt cache downloads ~100 MB
SHOT_TIMEOUT: Final = 120


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium binary, installed first if need be."""
    if not CHROMIUM.exists():
        done = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, check=False)
        if done.returncode != 0 or not CHROMIUM.exists():
            reason = done.stderr.strip().splitlines()[-1:] or ["unknown reason"]
            pytest.skip(f"Chromium is missing and cannot be installed here: {reason[0]}")
    return CHROMIUM


def screenshot(chromium: Path, page: Path, shot: Path, *, width: int = 1200,
               height: int = 3000) -> Path:
    """A PNG of ``page`` as headless Chromium renders it in a ``width``×``height`` window."""
    profile = shot.with_suffix(".profile")
    subprocess.run(
        [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
         f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=SHOT_TIMEOUT, check=True)
    assert shot.is_file(), f"Chromium made no screenshot of {page}"
    return shot
