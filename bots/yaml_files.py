"""The bots' small YAML files (texts, queue settings, small talk), read with errors that name
the file and say what is wrong, in the editor's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


def read_mapping(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The mapping at the top of ``path`` (an empty file is an empty mapping); anything else
    raises ``error`` with the file and the reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        # ValueError: an impossible date such as 2026-02-30, refused by the YAML loader.
        msg = f"{path}: не удалось прочитать: {exc}"
        raise error(msg) from exc
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
