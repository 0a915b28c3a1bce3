"""Load an FAQ file: YAML → schema, with every problem named by file, line and entry."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from faq.problems import FaqError, FaqReadError, Problem
from faq.schema import FaqEntry, FaqFile, Link, Loc
from faq.yaml_source import decode_utf8, input_kind, parse_yaml


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file or raise FaqError with a message for editors."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FaqReadError([Problem(name, None, None, "файл не найден")]) from None
    except IsADirectoryError:
        raise FaqReadError([Problem(name, None, None, "это папка, а не файл")]) from None
    except OSError as exc:
        msg = f"не удалось прочитать файл: {exc.strerror or exc}"
        raise FaqReadError([Problem(name, None, None, msg)]) from None
    return decode_utf8(raw, name)


def load_faq(path: str | Path) -> FaqFile:
    """Load and validate an FAQ file; raise FaqError listing every problem found."""
    return parse_faq(read_text(path), str(path))


def parse_faq(text: str, file: str = "<faq>") -> FaqFile:
    """Validate FAQ YAML text; ``file`` is only used in messages."""
    document = parse_yaml(text, file)
    data, lines = document.data, document.lines
    problems = _duplicate_ids(data, lines, file)
    try:
        faq = FaqFile.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, data, lines, file)
        raise FaqError(_unique(problems)) from None
    if problems:
        raise FaqError(problems)
    return faq.with_source(file, lines)


def validation_problems(
    exc: ValidationError, data: Any, lines: dict[Loc, int], file: str
) -> list[Problem]:
    """pydantic errors → problems with the line of the offending key and a Russian message."""
    return [
        _problem(error, data, lines, file)
        for error in exc.errors()
        if not _is_consequence(error, data)
    ]


def _is_consequence(error: ErrorDetails, data: Any) -> bool:
    """pydantic also reports "too short" for a list whose items all failed: skip that."""
    return error["type"] == "too_short" and bool(_raw_entries(data))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _raw_entries(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        return list(data["entries"])
    return []


def _duplicate_ids(data: Any, lines: dict[Loc, int], file: str) -> list[Problem]:
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(_raw_entries(data)):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        entry_id = entry["id"]
        line = lines.get(("entries", index, "id"), 0)
        if entry_id in first_line:
            msg = (
                f"id '{entry_id}' уже есть в строке {first_line[entry_id]}: "
                "у каждой записи должен быть свой id"
            )
            problems.append(Problem(file, line, entry_id, msg))
        else:
            first_line[entry_id] = line
    return problems


def _resolve(data: Any, loc: tuple[str | int, ...], *, missing: bool) -> tuple[Loc, Any]:
    """Keep the part of a pydantic loc that exists in the data (drops union/validator tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                node = node[part]
                path.append(part)
                continue
            if missing:
                path.append(part)
            break
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
            continue
        break
    return tuple(path), node


def _entry_id(data: Any, loc: Loc) -> str | None:
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        entries = _raw_entries(data)
        if loc[1] < len(entries):
            entry = entries[loc[1]]
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                return str(entry["id"])
        return f"№{loc[1] + 1}"
    return None


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]


def _model_for(loc: Loc) -> type[BaseModel]:
    if len(loc) >= 4 and loc[2] == "links":
        return Link
    if len(loc) >= 2 and loc[0] == "entries":
        return FaqEntry
    return FaqFile


def _field_label(loc: Loc) -> str:
    names = [str(part) for part in loc if isinstance(part, str)]
    label = f"'{names[-1]}'" if names else "значение"
    if loc and isinstance(loc[-1], int) and names:
        label = f"{label} (элемент {loc[-1] + 1})"
    return label


def _unknown_key(key: str, loc: Loc) -> str:
    allowed = list(_model_for(loc).model_fields)
    message = f"неизвестный ключ '{key}'"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"{message} (возможно, имелось в виду '{close[0]}'?)"
    return f"{message}: допустимые ключи — {', '.join(allowed)}"


def _message(error: ErrorDetails, loc: Loc, value: Any) -> str:
    kind = error["type"]
    label = _field_label(loc)
    quote_hint = "" if value is None else ": возьмите значение в кавычки"
    if kind == "missing":
        return f"нет обязательного ключа {label}"
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), loc)
    if kind == "value_error" and isinstance(value, str) and not value.strip():
        value = None
        kind = "string_type"
    if kind == "string_type":
        if value is None:
            if _required(loc):
                return (f"{label} пусто, а без него запись не работает: напишите текст после "
                        "двоеточия (длинный — блоком «|» с новой строки, с отступом)")
            return f"{label} пусто: напишите текст после двоеточия или удалите ключ"
        return f"{label} должно быть текстом, а не {input_kind(value)}{quote_hint}"
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "id":
            return (
                f"id '{value}' недопустим: используйте только латинские строчные буквы, "
                "цифры, _ и -"
            )
        return f"{label}: ссылка должна начинаться с https:// (сейчас '{value}')"
    if kind in {"tuple_type", "list_type"}:
        return f"{label} должно быть списком: каждый элемент с новой строки после «- »"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return _structure_message(loc, value)
    if kind == "too_short":
        return f"список {label} пуст: добавьте хотя бы одну запись"
    if kind.startswith("date"):
        return f"{label} должно быть датой в формате ГГГГ-ММ-ДД, например 2027-06-01"
    if kind == "value_error":
        context = error.get("ctx") or {}
        return f"{label}: {context.get('error', error['msg'])}"
    return f"{label}: {error['msg']}"


def _required(loc: Loc) -> bool:
    """Whether the key at ``loc`` must be there (removing it would be another error)."""
    if not loc or not isinstance(loc[-1], str):
        return False
    field = _model_for(loc).model_fields.get(loc[-1])
    return field is not None and field.is_required()


def _structure_message(loc: Loc, value: Any) -> str:
    if not loc:
        return "файл должен состоять из ключей верхнего уровня, среди них 'entries'"
    if loc[0] == "synonyms" and len(loc) == 1:
        return "'synonyms' должно быть набором «слово: [варианты, ...]»"
    if len(loc) == 2 and loc[0] == "entries":
        return (
            "запись должна быть набором ключей (id, question, answer, ...), "
            f"а не {input_kind(value)}"
        )
    if len(loc) >= 4 and loc[2] == "links":
        return "ссылка должна содержать ключи title и url"
    return f"{_field_label(loc)} должно быть набором ключей, а не {input_kind(value)}"


def _problem(error: ErrorDetails, data: Any, lines: dict[Loc, int], file: str) -> Problem:
    loc, value = _resolve(data, tuple(error["loc"]), missing=error["type"] == "missing")
    return Problem(file, _line(lines, loc), _entry_id(data, loc), _message(error, loc, value))
