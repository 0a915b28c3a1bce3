"""Fixtures shared by the bots' unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.smalltalk import SmallTalk

BOTS = Path(__file__).resolve().parents[2] / "bots"


@pytest.fixture(scope="session")
def smalltalk() -> SmallTalk:
    """The shipped small-talk lists (bots/smalltalk.yaml)."""
    return SmallTalk.from_file(BOTS / "smalltalk.yaml")
