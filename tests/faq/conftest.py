"""Shared fixtures: matchers are built once per session (construction is the slow part)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from faq import FaqFile, Matcher, load_faq

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def run_faq(*args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None,
            cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m faq *args`` in a subprocess (``env``: its whole environment, None: the
    tests'); its output decoded, which must hold no traceback."""
    completed = subprocess.run(
        [sys.executable, "-m", "faq", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )
    result = subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode("utf-8"),
        completed.stderr.decode("utf-8"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="session")
def mini_faq() -> FaqFile:
    return load_faq(DATA / "mini_faq.yaml")


@pytest.fixture(scope="session")
def mini_matcher(mini_faq: FaqFile) -> Matcher:
    return Matcher(mini_faq)
