"""pytest helpers: a running emulator that fails the test on spec violations.

Use ``running_emulator()`` in your own fixtures, or register this module as a plugin
(``pytest_plugins = ["tests.emulator.fixtures"]`` in the top-level ``conftest.py``) to get the
``emulator`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.emulator.driver import Emulator


@contextmanager
def running_emulator(**options: Any) -> Iterator[Emulator]:
    """A started :class:`Emulator`; on a clean exit, asserts no spec violations."""
    emu = Emulator(**options).start()
    try:
        yield emu
    finally:
        emu.stop()
    emu.assert_no_violations()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator per test; teardown fails if any request broke the spec."""
    with running_emulator() as emu:
        yield emu
