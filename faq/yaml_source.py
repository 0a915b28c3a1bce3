"""Parse YAML while remembering the line of every key and list item."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from faq.problems import FaqError, FaqReadError, Problem
from faq.schema import Loc

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type, misc]
    """Safe loader (libyaml when available: 10× faster) that keeps an impossible date such
    as 2027-13-01 as text, so the schema reports it with its line instead of PyYAML failing
    without one."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    lines: dict[Loc, int]


_HINTS = (
    ("\\t", "табуляция не допускается: используйте пробелы для отступов"),
    ("tab character", "табуляция не допускается: используйте пробелы для отступов"),
    ("mapping values are not allowed", "лишнее двоеточие: возьмите текст в кавычки"),
    ("could not find expected ':'", "после ключа не хватает двоеточия"),
    ("expected <block end>", "неверный отступ: выровняйте строку с соседними"),
    ("did not find expected key", "неверный отступ или лишний символ в начале строки"),
    ("did not find expected '-' indicator", "неверный отступ у элемента списка"),
    ("found unexpected end of stream", "не закрыта кавычка или скобка"),
    ("'<stream end>'", "не закрыта кавычка или скобка"),
    ("expected node content", "не закрыта скобка или после двоеточия не хватает значения"),
    (
        "found undefined alias",
        "неизвестная ссылка '*': уберите звёздочку или возьмите текст в кавычки",
    ),
    ("expected a single document", "в файле несколько документов (---): оставьте один"),
)


_KEY_LINE = re.compile(r"^\s*(?:-\s+)?[A-Za-z_]+\s*:(?:\s|$)")
_UNINDENTED = (
    "строка без ключа и двоеточия: если это продолжение текста (ответа, вопроса), сдвиньте её "
    "вправо на тот же отступ, что у строк текста выше; если это новый ключ, поставьте после "
    "него двоеточие"
)
_KEY_TOO_FAR = (
    "ключ сдвинут правее соседних ключей записи: выровняйте его по ключам выше (id, question, "
    "answer…)"
)
_COLON_IN_TEXT = (
    "в тексте есть «: », и YAML принял его за новый ключ: возьмите текст в кавычки целиком или "
    "запишите его блоком «|» с новой строки"
)


def _colon_hint(text: str, mark: yaml.Mark) -> str:
    """A key (``answer:``) indented too far, or a «: » inside a text."""
    lines = text.splitlines()
    source = lines[mark.line] if mark.line < len(lines) else ""
    key_colon = source.find(":")
    return _KEY_TOO_FAR if _KEY_LINE.match(source) and key_colon == mark.column else (
        _COLON_IN_TEXT)


def _yaml_problem(file: str, exc: yaml.YAMLError, text: str = "") -> Problem:
    """A syntax error with the line where the editor must look and what to do there."""
    line: int | None = None
    detail = str(exc)
    hint: str | None = None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        if "could not find expected ':'" in detail and exc.context_mark is not None:
            # the stray line is where the scanner began the "key", not where it gave up
            line, hint = exc.context_mark.line + 1, _UNINDENTED
        elif "mapping values are not allowed" in detail and exc.problem_mark is not None:
            hint = _colon_hint(text, exc.problem_mark)
    hint = hint or next((text for key, text in _HINTS if key in detail), None)
    if hint is None:
        return Problem(file, line, None, f"ошибка синтаксиса YAML ({detail})")
    return Problem(file, line, None, f"ошибка синтаксиса YAML: {hint} ({detail})")


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    """Map each key path to its line: the key's line for mapping values, the item's for lists."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[(*loc, key.value)] = key.start_mark.line + 1
                _record_lines(value, (*loc, key.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*loc, index), lines)


def _duplicate_keys(node: yaml.Node, file: str) -> Iterator[Problem]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    yield Problem(
                        file,
                        line,
                        None,
                        f"ключ '{key.value}' повторяется (уже есть в строке {seen[key.value]}): "
                        "оставьте один",
                    )
                else:
                    seen[key.value] = line
            yield from _duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, file)


_NO_REFERENCES = (
    "ссылки YAML (& и *) не поддерживаются: напишите текст полностью или возьмите его в кавычки"
)


def anchor_problems(text: str, file: str) -> list[Problem]:
    """One problem for each line holding a YAML anchor (``&name``) or alias (``*name``),
    found from the parser's events before anything is composed, so nested aliases (a
    "billion laughs" file) are refused without being expanded. Raises ``yaml.YAMLError`` on
    a syntax error."""
    if "&" not in text and "*" not in text:
        return []  # neither can occur: skip the second parse
    problems: dict[int | None, Problem] = {}
    for event in yaml.parse(text, Loader=_BaseLoader):
        anchor = getattr(event, "anchor", None)
        mark = event.start_mark
        line = None if mark is None else mark.line + 1
        if anchor is None or line in problems:
            continue
        alias = isinstance(event, yaml.AliasEvent)
        kind = f"ссылка '*{anchor}'" if alias else f"якорь '&{anchor}'"
        problems[line] = Problem(file, line, None, f"{kind} не допускается: {_NO_REFERENCES}")
    return list(problems.values())


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; raise FaqError naming the line on any syntax problem or on
    an anchor or alias (refused before anything is expanded)."""
    try:
        references = anchor_problems(text, file)
    except yaml.YAMLError as exc:
        raise FaqError([_yaml_problem(file, exc, text)]) from None
    if references:
        raise FaqError(references)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FaqError([Problem(file, None, None, "файл пуст: добавьте ключ 'entries'")])
        lines: dict[Loc, int] = {}
        _record_lines(node, (), lines)
        problems = list(_duplicate_keys(node, file))
        if problems:
            raise FaqError(problems)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise FaqError([_yaml_problem(file, exc, text)]) from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, lines=lines)


def decode_utf8(raw: bytes, file: str) -> str:
    """Decode a file as UTF-8 (a BOM is allowed), naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = "файл не в кодировке UTF-8: сохраните его в UTF-8"
        raise FaqReadError([Problem(file, line, None, msg)]) from None


def input_kind(value: object) -> str:
    """Describe a parsed YAML value in Russian for error messages."""
    if value is None:
        return "пустое значение"
    if isinstance(value, bool):
        return "да/нет (true/false)"
    if isinstance(value, int | float):
        return "число"
    if isinstance(value, dt.date):
        return "дата"
    if isinstance(value, list):
        return "список"
    if isinstance(value, dict):
        return "набор ключей"
    return "текст"
