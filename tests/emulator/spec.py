"""Check Bot API requests against the machine-readable spec (``bot-api-spec.json``).

Usable on its own::

    validator = SpecValidator.load()
    params = validator.decode("sendMessage", {"chat_id": "1", "text": "hi"})
    assert validator.validate("sendMessage", params) == []

``decode`` turns form values (what aiogram sends: integers and booleans as strings, objects and
arrays as JSON strings) into Python values using the declared field types. ``validate`` returns
:class:`Violation` objects: unknown method, missing required field, wrong type (recursively
through object types and subtypes), unknown or deprecated field, the length limits written in the
field descriptions (after HTML parsing for ``text``/``caption``), entity ranges in UTF-16 units,
and HTML that Telegram would reject or that carries a raw ``&``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from tests.emulator import errors
from tests.emulator.formatting import HtmlError, canonical_parse_mode, parse_html, utf16_len

SPEC_ENV = "BOT_API_SPEC"
METHODS_HREF = "https://core.telegram.org/bots/api#available-methods"
FORMATTING_HREF = "https://core.telegram.org/bots/api#formatting-options"

# aiogram 3.31 targets Bot API 10.3; the spec file is 10.1. Fields and methods below are newer
# than the file and are accepted without checks. Found by comparing every aiogram method and
# type model with the spec (fields aiogram marks deprecated are NOT here).
NEWER_FIELDS_ANY_METHOD = frozenset({
    "callback_query_id",  # send*: answer a callback query with the message
    "ephemeral_message_parameters",  # send*: ephemeral messages
    "receiver_user_id",  # send*: receiver of an ephemeral message
})
NEWER_METHOD_FIELDS: Mapping[str, frozenset[str]] = {
    "promoteChatMember": frozenset({"can_send_welcome_messages"}),
    "sendMessageDraft": frozenset({"can_stop", "keep_on_stop"}),
    "sendRichMessageDraft": frozenset({"can_stop", "keep_on_stop"}),
}
NEWER_TYPE_FIELDS: Mapping[str, frozenset[str]] = {
    "BotCommand": frozenset({"is_ephemeral"}),
    "BusinessBotRights": frozenset({"can_delete_outgoing_messages"}),
    "ChatAdministratorRights": frozenset({"can_send_welcome_messages"}),
    "ChatMemberAdministrator": frozenset({"can_send_welcome_messages"}),  # in answers
    "InlineKeyboardButton": frozenset({"disabled"}),
    "InputRichMessage": frozenset({"blocks", "media"}),
    "ReplyParameters": frozenset({"ephemeral_message_id"}),
}
NEWER_METHODS = frozenset({
    "deleteEphemeralMessage", "editEphemeralMessageCaption", "editEphemeralMessageMedia",
    "editEphemeralMessageReplyMarkup", "editEphemeralMessageText",
})
#: Deprecated aliases aiogram still accepts; Telegram wants the replacement instead.
DEPRECATED_FIELDS: Mapping[str, str] = {
    "reply_to_message_id": "use reply_parameters",
    "allow_sending_without_reply": "use reply_parameters.allow_sending_without_reply",
    "disable_web_page_preview": "use link_preview_options",
}

_LIMIT_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_DISCRIMINATOR_RE = re.compile(r"(?:always|must be) [\"“]?([a-z_]+)")
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PRIMITIVES = ("Integer", "Float", "Boolean", "String", "InputFile")
_TEXT_FIELDS = ("text", "caption", "message_text")
_BUTTON_LABELS = frozenset({"text", "icon_custom_emoji_id", "style"})


def default_spec_path() -> Path:
    """``$BOT_API_SPEC``, else the copy kept in the repository (``telegram/`` beside this
    module, MIT, see its LICENSE): a fresh clone tests against it with nothing beside it."""
    override = os.environ.get(SPEC_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "telegram" / "bot-api-spec.json"


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part of a request."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the spec."""

    method: str
    field: str  # dotted path, e.g. "reply_markup.inline_keyboard[0][1].callback_data"
    problem: str
    href: str  # spec anchor of the method or type that owns the field
    #: unknown_method, missing_field, wrong_type, unknown_field, deprecated_field, limit,
    #: markup, entities, button
    code: str
    #: the description Telegram itself would answer with, when there is one
    telegram_error: str | None = None

    def __str__(self) -> str:
        return f"{self.method}: {self.field}: {self.problem} [{self.href}]"


class _Problem(NamedTuple):
    field: str
    problem: str
    href: str
    code: str
    telegram_error: str | None = None


class _Limit(NamedTuple):
    low: int
    high: int
    unit: str  # "characters" (UTF-16 units) or "bytes" (UTF-8)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return "an uploaded file"
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _guess(value: str) -> Any:
    """Decode a form value of a field the spec does not know."""
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class SpecValidator:
    """Validates decoded Bot API requests against the spec."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.version: str = spec.get("version", "?")
        self.methods: Mapping[str, Mapping[str, Any]] = spec["methods"]
        self.types: Mapping[str, Mapping[str, Any]] = spec["types"]
        self._method_by_lower = {name.lower(): name for name in self.methods}
        self._limits: dict[tuple[str, str], _Limit] = {}
        for owner in (*self.methods.values(), *self.types.values()):
            for field in owner.get("fields", ()):
                match = _LIMIT_RE.search(field["description"])
                if match:
                    low, high, unit = match.groups()
                    self._limits[owner["name"], field["name"]] = _Limit(int(low), int(high), unit)

    @classmethod
    def load(cls, path: Path | str | None = None) -> SpecValidator:
        """The validator for ``path`` (default :func:`default_spec_path`); cached per path."""
        return _load(Path(path) if path is not None else default_spec_path())

    # --- lookups ------------------------------------------------------------------------------

    def canonical_method(self, name: str) -> str | None:
        """Spec spelling of ``name`` (Telegram method names are case-insensitive)."""
        return self._method_by_lower.get(name.lower())

    def method_href(self, method: str) -> str:
        spec = self.methods.get(method)
        return spec["href"] if spec else METHODS_HREF

    def returns(self, method: str) -> list[str]:
        return list(self.methods[method].get("returns", ()))

    def field_types(self, method: str) -> dict[str, list[str]]:
        spec = self.methods.get(method, {})
        return {f["name"]: list(f["types"]) for f in spec.get("fields", ())}

    # --- decoding -------------------------------------------------------------------------------

    def decode(self, method: str, form: Mapping[str, Any],
               files: Mapping[str, UploadedFile] | None = None) -> dict[str, Any]:
        """Python values for a form-encoded request; file parts named like a field become it."""
        types = self.field_types(method)
        params = {key: self._coerce(value, types.get(key)) for key, value in form.items()}
        for name, upload in (files or {}).items():
            if name in types and name not in params:
                params[name] = upload
        return params

    def _coerce(self, value: Any, types: Sequence[str] | None) -> Any:
        if not isinstance(value, str):
            return value
        if types is None:
            return _guess(value)
        for type_name in types:
            if type_name == "Integer" and _INT_RE.fullmatch(value):
                return int(value)
            if type_name == "Float" and _FLOAT_RE.fullmatch(value):
                return float(value)
            if type_name == "Boolean" and value in ("true", "false", "True", "False"):
                return value.lower() == "true"
            if type_name not in _PRIMITIVES and value[:1] in "[{":
                try:
                    return json.loads(value)
                except ValueError:
                    return value
        return value

    # --- validation ------------------------------------------------------------------------------

    def validate(self, method: str, params: Mapping[str, Any],
                 files: Collection[str] = ()) -> list[Violation]:
        """All violations of a decoded request; ``files`` are the names of its file parts."""
        spec = self.methods.get(method)
        if spec is None:
            if method in NEWER_METHODS:
                return []
            return [Violation(method, "-", "unknown method", METHODS_HREF, "unknown_method",
                              errors.NOT_FOUND)]
        extra = NEWER_FIELDS_ANY_METHOD | NEWER_METHOD_FIELDS.get(method, frozenset())
        problems = self._check_fields(method, spec, params, "", extra, files)
        return [Violation(method, *p) for p in problems]

    def check_value(self, value: Any, types: Sequence[str], files: Collection[str] = (),
                    path: str = "value") -> list[str]:
        """Problems of one value against spec types (e.g. a method's ``returns``)."""
        problems = self._value(value, types, path, files, METHODS_HREF)
        return [f"{p.field}: {p.problem}" for p in problems]

    def _check_fields(self, owner: str, spec: Mapping[str, Any], obj: Mapping[str, Any],
                      path: str, extra: Collection[str],
                      files: Collection[str]) -> list[_Problem]:
        href = spec["href"]
        fields = {f["name"]: f for f in spec.get("fields", ())}
        out: list[_Problem] = []
        for name, field in fields.items():
            if field["required"] and obj.get(name) is None:
                out.append(_Problem(_join(path, name), "required field is missing", href,
                                    "missing_field"))
        for name, value in obj.items():
            where = _join(path, name)
            if name in fields:
                if value is not None:
                    out += self._value(value, fields[name]["types"], where, files, href)
            elif name in extra:
                continue
            elif name in DEPRECATED_FIELDS:
                out.append(_Problem(where, f"deprecated alias: {DEPRECATED_FIELDS[name]}", href,
                                    "deprecated_field"))
            else:
                out.append(_Problem(where, f"unknown field (not in {owner})", href,
                                    "unknown_field"))
        out += self._limits_of(owner, obj, path, href)
        out += self._markup_of(obj, path)
        out += self._entities_of(obj, path, href)
        if owner == "InlineKeyboardButton":
            out += self._button(obj, path, href, extra)
        return out

    def _value(self, value: Any, types: Sequence[str], path: str, files: Collection[str],
               href: str) -> list[_Problem]:
        """Problems of ``value`` against "one of ``types``"; ``href`` owns the field."""
        tried: list[list[_Problem]] = []
        for type_name in types:
            problems = self._one_type(value, type_name, path, files, href)
            if not problems:
                return []
            tried.append(problems)
        if len(tried) == 1:
            return tried[0]
        deep = [p for p in tried if not (len(p) == 1 and p[0].code == "wrong_type"
                                         and p[0].field == path)]
        if deep:
            return min(deep, key=len)
        expected = " or ".join(types)
        return [_Problem(path, f"expected {expected}, got {_describe(value)}", href,
                         "wrong_type")]

    def _one_type(self, value: Any, type_name: str, path: str, files: Collection[str],
                  href: str) -> list[_Problem]:
        def wrong() -> list[_Problem]:
            return [_Problem(path, f"expected {type_name}, got {_describe(value)}", href,
                             "wrong_type")]

        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return wrong()
            item_type = type_name.removeprefix("Array of ")
            out: list[_Problem] = []
            for i, item in enumerate(value):
                out += self._value(item, [item_type], f"{path}[{i}]", files, href)
            return out
        if type_name == "Integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else wrong()
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else wrong()
        if type_name == "Boolean":
            return [] if isinstance(value, bool) else wrong()
        if type_name == "String":
            return [] if isinstance(value, str) else wrong()
        if type_name == "InputFile":
            return self._input_file(value, path, files, href, wrong)
        spec = self.types.get(type_name)
        if spec is None:
            return []  # a type newer than the spec file: nothing to check against
        if "subtypes" in spec:
            return self._subtypes(value, type_name, spec, path, files, href)
        if not isinstance(value, dict):
            return wrong()
        extra = NEWER_TYPE_FIELDS.get(type_name, frozenset())
        return self._check_fields(type_name, spec, value, path, extra, files)

    @staticmethod
    def _input_file(value: Any, path: str, files: Collection[str], href: str,
                    wrong: Callable[[], list[_Problem]]) -> list[_Problem]:
        if isinstance(value, UploadedFile):
            return []
        if isinstance(value, str) and value.startswith("attach://"):
            if value.removeprefix("attach://") in files:
                return []
            return [_Problem(path, f"{value} names no file part of the request", href,
                             "wrong_type")]
        return wrong()

    def _subtypes(self, value: Any, type_name: str, spec: Mapping[str, Any], path: str,
                  files: Collection[str], href: str) -> list[_Problem]:
        candidates: list[str] = list(spec["subtypes"])
        if isinstance(value, dict):
            keyed = [(name, self._discriminator(name)) for name in candidates]
            if any(d is not None for _, d in keyed):
                matching = [name for name, d in keyed if d is None or value.get(d[0]) == d[1]]
                if not matching:
                    options = ", ".join(f"{d[0]}={d[1]!r}" for _, d in keyed if d is not None)
                    return [_Problem(path, f"matches no {type_name} subtype ({options})",
                                     spec["href"], "wrong_type")]
                candidates = matching
        return self._value(value, candidates, path, files, href)

    @cache  # noqa: B019 - validators live as long as the process (one per spec file)
    def _discriminator(self, type_name: str) -> tuple[str, str] | None:
        for field in self.types.get(type_name, {}).get("fields", ()):
            if field["name"] in ("type", "status", "source") and field["required"]:
                match = _DISCRIMINATOR_RE.search(field["description"])
                if match:
                    return field["name"], match.group(1)
        return None

    # --- rules written in descriptions ----------------------------------------------------------

    def _limits_of(self, owner: str, obj: Mapping[str, Any], path: str,
                   href: str) -> list[_Problem]:
        out: list[_Problem] = []
        for name, value in obj.items():
            limit = self._limits.get((owner, name))
            if limit is None or not isinstance(value, str):
                continue
            size = self._measure(obj, name, value, limit)
            if size is None or limit.low <= size <= limit.high:
                continue
            unit = "UTF-16 units" if limit.unit == "characters" else "bytes (UTF-8)"
            after = " after entity parsing" if "parse_mode" in obj else ""
            out.append(_Problem(_join(path, name),
                                f"length {size} {unit}{after} is outside {limit.low}-{limit.high}",
                                href, "limit", _limit_error(name, size, limit)))
        return out

    @staticmethod
    def _measure(obj: Mapping[str, Any], name: str, value: str, limit: _Limit) -> int | None:
        if limit.unit == "bytes":
            return len(value.encode())
        text = value
        mode = obj.get("parse_mode")
        if name in _TEXT_FIELDS and isinstance(mode, str) and canonical_parse_mode(mode) == "HTML":
            try:
                text = parse_html(value).text
            except HtmlError:
                return None  # reported by the markup rule
        if name in ("text", "message_text") and not text.strip():
            return 0
        return utf16_len(text)

    @staticmethod
    def _markup_of(obj: Mapping[str, Any], path: str) -> list[_Problem]:
        out: list[_Problem] = []
        for key, mode in obj.items():
            if not key.endswith("parse_mode") or not isinstance(mode, str):
                continue
            if key == "parse_mode":
                target = next((f for f in _TEXT_FIELDS if isinstance(obj.get(f), str)), None)
            else:
                target = key.removesuffix("_parse_mode")
            where = _join(path, key)
            canonical = canonical_parse_mode(mode)
            if canonical is None:
                out.append(_Problem(where, f"unsupported parse_mode {mode!r}", FORMATTING_HREF,
                                    "markup", errors.UNSUPPORTED_PARSE_MODE))
                continue
            text = obj.get(target) if target else None
            if canonical != "HTML" or not isinstance(text, str):
                continue
            assert target is not None
            try:
                parsed = parse_html(text)
            except HtmlError as exc:
                out.append(_Problem(_join(path, target), f"parse_mode=HTML: {exc}",
                                    FORMATTING_HREF, "markup", errors.CANT_PARSE + str(exc)))
                continue
            if parsed.raw_ampersands:
                out.append(_Problem(
                    _join(path, target),
                    f"parse_mode=HTML but a raw '&' at byte offset {parsed.raw_ampersands[0]} "
                    "is not an HTML entity (escape text with html.escape or send entities)",
                    FORMATTING_HREF, "markup"))
        return out

    @staticmethod
    def _entities_of(obj: Mapping[str, Any], path: str, href: str) -> list[_Problem]:
        out: list[_Problem] = []
        for key, entities in obj.items():
            if not key.endswith("entities") or not isinstance(entities, list):
                continue
            if key == "entities":
                target = next((f for f in ("text", "message_text") if f in obj), "text")
            else:
                target = key.removesuffix("_entities")
            text = obj.get(target)
            if not isinstance(text, str):
                continue
            size = utf16_len(text)
            for i, entity in enumerate(entities):
                if not isinstance(entity, dict):
                    continue
                offset, length = entity.get("offset"), entity.get("length")
                if not isinstance(offset, int) or not isinstance(length, int):
                    continue
                if offset < 0 or length < 1 or offset + length > size:
                    out.append(_Problem(
                        f"{_join(path, key)}[{i}]",
                        f"entity offset {offset} + length {length} is outside {target} "
                        f"({size} UTF-16 units)", href, "entities"))
        return out

    @staticmethod
    def _button(obj: Mapping[str, Any], path: str, href: str,
                extra: Collection[str]) -> list[_Problem]:
        actions = [k for k in obj if k not in _BUTTON_LABELS and k not in extra]
        if len(actions) == 1:
            return []
        problem = (f"exactly one action field must be set, got {sorted(actions)}" if actions
                   else "a button needs one action field (callback_data, url, ...)")
        return [_Problem(path or "button", problem, href, "button",
                         "Bad Request: can't parse inline keyboard button: "
                         "Text buttons are unallowed in the inline keyboard")]


def _limit_error(name: str, size: int, limit: _Limit) -> str | None:
    if name in ("text", "message_text"):
        return errors.TEXT_EMPTY if size < limit.low else errors.TEXT_TOO_LONG
    if name == "caption":
        return errors.CAPTION_TOO_LONG
    if name == "callback_data":
        return "Bad Request: BUTTON_DATA_INVALID"
    return None


@cache
def _load(path: Path) -> SpecValidator:
    with path.open(encoding="utf-8") as fh:
        return SpecValidator(json.load(fh))


def format_violations(violations: Iterable[Violation]) -> str:
    return "\n".join(f"  - {v}" for v in violations)
