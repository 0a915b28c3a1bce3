"""Shared fixtures: matchers are built once per session (construction is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import FaqFile, Matcher, load_faq

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mini_faq() -> FaqFile:
    return load_faq(DATA / "mini_faq.yaml")


@pytest.fixture(scope="session")
def mini_matcher(mini_faq: FaqFile) -> Matcher:
    return Matcher(mini_faq)
