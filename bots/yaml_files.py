"""The bots' small YAML files (texts, queue settings, small talk), read with errors that name
the file and say what is wrong, in the editor's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from faq.yaml_source import anchor_problems


def read_mapping(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The mapping at the top of ``path`` (an empty file is an empty mapping); anything else,
    YAML anchors and aliases (``&name``, ``*name``) included, raises ``error`` with the file
    and the reason."""
    try:
        text = path.read_text(encoding="utf-8")
        # Anchors and aliases are refused before anything is built: nested aliases (a
        # "billion laughs" file) would otherwise expand to gigabytes.
        references = anchor_problems(text, str(path))
        data = None if references else yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        # ValueError: an impossible date such as 2026-02-30, refused by the YAML loader.
        msg = f"{path}: не удалось прочитать: {exc}"
        raise error(msg) from exc
    if references:
        raise error("; ".join(str(problem) for problem in references))
    if not isinstance(data, dict):
        msg = f"{path}: ожидается набор «ключ: значение»"
        raise error(msg)
    return data


def problems(error: ValidationError, root: str) -> str:
    """pydantic's errors in one line: ``key.sub: message; ...`` (``root`` for the whole)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or root}: {item['msg']}"
        for item in error.errors()
    )
