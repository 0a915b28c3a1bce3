"""The FAQ watcher (``FaqSource.watch``) outlives every failure of a reload (issue 11, item 3):
an alias bomb is refused with its file and line, an unexpected exception (MemoryError
included) is logged with the file, the bot keeps serving the previous FAQ and the next good
edit is picked up."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bots.faq_source
from bots.faq_source import FaqSource
from faq import FaqFile, load_faq

MINI = Path(__file__).resolve().parents[1] / "faq" / "data" / "mini_faq.yaml"
# nested aliases, 9**4 strings once expanded (tests/faq/test_yaml_aliases.py refuses the
# full nine levels without composing anything; kept small here so that even a loader that
# expanded it would fail the test quickly instead of exhausting memory)
BOMB = "entries:\n  - &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  - &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abc", "bcd", strict=True)
)
NEW_TITLE = "Исправленный FAQ"


@pytest.fixture
def faq_path(tmp_path: Path) -> Path:
    path = tmp_path / "payments" / "faq.yaml"
    path.parent.mkdir()
    shutil.copyfile(MINI, path)
    return path


def edit(path: Path, text: str) -> None:
    """Write ``text`` with a modification time surely different from the previous one."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def good_edit(path: Path) -> None:
    text = MINI.read_text(encoding="utf-8")
    edit(path, text.replace("title: Тестовый FAQ", f"title: {NEW_TITLE}", 1))


def failing_once(error: BaseException) -> Callable[..., FaqFile]:
    calls = 0

    def load(path: Any) -> FaqFile:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise error
        return load_faq(path)

    return load


async def test_an_alias_bomb_is_rejected_with_file_and_line(faq_path: Path) -> None:
    source = FaqSource.open(faq_path)
    previous = source.current
    edit(faq_path, BOMB)
    problem = await source.reload_if_changed()
    assert problem is not None
    assert problem.splitlines()[0].startswith(f"{faq_path}:2: якорь '&a' не допускается")
    assert source.current is previous
    good_edit(faq_path)
    assert await source.reload_if_changed() is None
    assert source.current.faq.title == NEW_TITLE


@pytest.fixture(params=[MemoryError(), RuntimeError("loader crashed")],
                ids=["MemoryError", "RuntimeError"])
def error(request: pytest.FixtureRequest) -> BaseException:
    """What the FAQ loader raises unexpectedly, once."""
    param: BaseException = request.param
    return param


@pytest.fixture
def failing_source(faq_path: Path, error: BaseException,
                   monkeypatch: pytest.MonkeyPatch) -> FaqSource:
    """The FAQ at ``faq_path``, opened; its next load raises ``error``."""
    source = FaqSource.open(faq_path)
    monkeypatch.setattr(bots.faq_source, "load_faq", failing_once(error))
    return source


async def test_an_unexpected_reload_error_keeps_the_previous_faq(
        faq_path: Path, error: BaseException, failing_source: FaqSource,
        caplog: pytest.LogCaptureFixture) -> None:
    source = failing_source
    previous = source.current
    good_edit(faq_path)
    with caplog.at_level(logging.ERROR):
        problem = await source.reload_if_changed()
    assert problem is not None
    assert problem.startswith(f"{faq_path}: ")
    assert type(error).__name__ in problem
    assert source.current is previous
    assert str(faq_path) in caplog.text
    # the same (unchanged) file is not retried on every check; the next edit is picked up
    assert await source.reload_if_changed() is None
    assert source.current is previous
    good_edit(faq_path)
    assert await source.reload_if_changed() is None
    assert source.current.faq.title == NEW_TITLE


async def wait_for(condition: Callable[[], bool], task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(30):
        while not condition():
            assert not task.done(), "the watcher stopped"
            await asyncio.sleep(0.01)


async def test_the_watcher_survives_any_reload_error(
        faq_path: Path, failing_source: FaqSource, caplog: pytest.LogCaptureFixture) -> None:
    source = failing_source
    previous = source.current
    reported: list[str] = []

    async def on_error(problem: str) -> None:
        reported.append(problem)
        if len(reported) == 1:
            raise ConnectionError("the operators' chat is unreachable")

    task = asyncio.create_task(source.watch(0.01, on_error))
    try:
        good_edit(faq_path)  # fails with ``error``, then reporting it fails too
        await wait_for(lambda: len(reported) == 1, task)
        await asyncio.sleep(0.05)  # a few more checks: the watcher must still be running
        assert not task.done()
        assert source.current is previous

        edit(faq_path, BOMB)  # refused with its line, reported
        await wait_for(lambda: len(reported) == 2, task)
        assert reported[1].startswith(f"{faq_path}:2: ")
        assert source.current is previous

        good_edit(faq_path)
        await wait_for(lambda: source.current.faq.title == NEW_TITLE, task)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert str(faq_path) in caplog.text
