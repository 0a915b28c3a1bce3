"""Text formatting as Telegram does it: UTF-16 lengths and the HTML parse mode.

The HTML parser follows tdlib's ``parse_html`` (the code behind the Bot API): only the supported
tags, the four named entities plus numeric ones, and the same error messages
("Unsupported start tag \"script\" at byte offset 0", ...). Markdown modes are accepted but not
parsed (the text is kept as sent, without entities).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}

_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote", "tg-time",
})
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_SPACES = " \t\r\n\f\v"
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram calls "characters"."""
    return len(text.encode("utf-16-le")) // 2


def canonical_parse_mode(parse_mode: str) -> str | None:
    """``HTML``/``MarkdownV2``/``Markdown`` for any letter case, else ``None``."""
    return PARSE_MODES.get(parse_mode.lower())


class HtmlError(ValueError):
    """Telegram's "can't parse entities" reason (without the "Bad Request: ..." prefix)."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    #: UTF-8 byte offsets of ``&`` that start no HTML entity (Telegram keeps them as text).
    raw_ampersands: list[int] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int
    attrs: dict[str, str]


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(text, i)
    if match is None:
        return None
    body = match.group()[1:-1]
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED[body], match.end()
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.offset = 0  # UTF-16 units written so far
        self.entities: list[dict[str, Any]] = []
        self.stack: list[_Open] = []
        self.raw_ampersands: list[int] = []

    def byte_offset(self, i: int) -> int:
        return len(self.src[:i].encode())

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else ""

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.offset += utf16_len(chunk)

    def run(self) -> ParsedText:
        i = 0
        while i < len(self.src):
            char = self.src[i]
            if char == "&":
                decoded = _decode_entity(self.src, i)
                if decoded is not None:
                    self.emit(decoded[0])
                    i = decoded[1]
                    continue
                self.raw_ampersands.append(self.byte_offset(i))
            if char != "<":
                self.emit(char)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == "/" else self.start_tag(i)
        if self.stack:
            msg = f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            raise HtmlError(msg)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities, self.raw_ampersands)

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        while self.at(i) and self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        if not self.at(i):
            msg = f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
            raise HtmlError(msg)
        tag = self.src[begin + 1:i].lower()
        if tag not in _TAGS:
            msg = f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}'
            raise HtmlError(msg)
        attrs: dict[str, str] = {}
        while self.at(i) != ">":
            i = self.attribute(tag, begin, i, attrs)
        argument = self.argument(tag, attrs, begin)
        self.stack.append(_Open(tag, argument, self.offset, attrs))
        return i + 1

    def attribute(self, tag: str, begin: int, i: int, attrs: dict[str, str]) -> int:
        while self.at(i) and self.at(i) in _SPACES:
            i += 1
        if self.at(i) == ">":
            return i
        name_start = i
        while self.at(i) and self.at(i) not in _SPACES and self.at(i) not in "=>":
            i += 1
        name = self.src[name_start:i]
        where = f'the tag "{tag}" at byte offset {self.byte_offset(begin)}'
        if not name:
            msg = f"Empty attribute name in {where}"
            raise HtmlError(msg)
        while self.at(i) and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                return i
            if not self.at(i):
                msg = f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
                raise HtmlError(msg)
            msg = f"Expected equal sign in declaration of an attribute of {where}"
            raise HtmlError(msg)
        i += 1
        while self.at(i) and self.at(i) in _SPACES:
            i += 1
        if not self.at(i):
            msg = f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}'
            raise HtmlError(msg)
        if self.at(i) in "'\"":
            quote = self.at(i)
            i += 1
            value: list[str] = []
            while self.at(i) and self.at(i) != quote:
                decoded = _decode_entity(self.src, i) if self.at(i) == "&" else None
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                else:
                    value.append(self.at(i))
                    i += 1
            if self.at(i) == quote:
                i += 1
            attrs[name] = "".join(value)
        else:
            match = _NAME_TOKEN.match(self.src, i)
            assert match is not None
            i = match.end()
            if self.at(i) and self.at(i) not in _SPACES and self.at(i) != ">":
                msg = f"Unexpected end of name token at byte offset {self.byte_offset(i)}"
                raise HtmlError(msg)
            attrs[name] = match.group().lower()
        if not self.at(i):
            msg = f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
            raise HtmlError(msg)
        return i

    def argument(self, tag: str, attrs: dict[str, str], begin: int) -> str:
        if tag == "a":
            return attrs.get("href", "")
        if tag == "code":
            language = attrs.get("class", "")
            return language.removeprefix("language-") if language.startswith("language-") else ""
        if tag == "span":
            if attrs.get("class") != "tg-spoiler":
                msg = ('Tag "span" must have class "tg-spoiler" at byte offset '
                       f"{self.byte_offset(begin)}")
                raise HtmlError(msg)
            return "spoiler"
        if tag == "tg-emoji":
            return attrs.get("emoji-id", "")
        return ""

    def end_tag(self, begin: int) -> int:
        if not self.stack:
            msg = f"Unexpected end tag at byte offset {self.byte_offset(begin)}"
            raise HtmlError(msg)
        i = begin + 2
        while self.at(i) and self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        name = self.src[begin + 2:i].lower()
        while self.at(i) and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ">":
            msg = f"Unclosed end tag at byte offset {self.byte_offset(begin)}"
            raise HtmlError(msg)
        opened = self.stack.pop()
        if name and name != opened.tag:
            msg = (f"Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "
                   f'"</{opened.tag}>", found "</{name}>"')
            raise HtmlError(msg)
        length = self.offset - opened.offset
        if length > 0:
            self.add_entity(opened, length)
        return i + 1

    def add_entity(self, opened: _Open, length: int) -> None:
        entity: dict[str, Any] = {"offset": opened.offset, "length": length}
        tag, argument = opened.tag, opened.argument
        if tag == "a":
            if not argument:
                return
            entity.update(type="text_link", url=argument)
        elif tag == "blockquote":
            expandable = "expandable" in opened.attrs
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        elif tag == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=argument)
        elif tag == "tg-time":
            entity["type"] = "date_time"
            if opened.attrs.get("unix", "").isdigit():
                entity["unix_time"] = int(opened.attrs["unix"])
            if "format" in opened.attrs:
                entity["date_time_format"] = opened.attrs["format"]
        elif tag == "pre":
            entity["type"] = "pre"
            inner = next((e for e in self.entities if e["type"] == "code"
                          and e["offset"] == opened.offset and e["length"] == length), None)
            if inner is not None:
                self.entities.remove(inner)
                if inner.get("language"):
                    entity["language"] = inner["language"]
        else:
            entity["type"] = _SIMPLE[tag]
            if tag == "code" and argument:
                entity["language"] = argument
        self.entities.append(entity)


def parse_html(text: str) -> ParsedText:
    """Plain text and entities of an HTML-formatted ``text``; raises :class:`HtmlError`."""
    return _HtmlParser(text).run()


def apply_parse_mode(text: str, parse_mode: str | None) -> ParsedText:
    """Text as Telegram stores it after ``parse_mode`` (``None``: unchanged)."""
    if parse_mode is not None and canonical_parse_mode(parse_mode) == "HTML":
        return parse_html(text)
    return ParsedText(text)


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to a user's plain text itself (only a leading bot command)."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]
