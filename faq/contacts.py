"""Contacts of a deployment (phones, addresses) that FAQ answers refer to as ``{hotline}``.

Each bot keeps them next to its FAQ, in ``contacts.yaml`` (``key: "value"``); a deployment
overrides them without touching the repository: a file ``$FAQ_CONTACTS_DIR/<bot>.yaml`` of the
same form, then one environment variable per key, ``<BOT>_CONTACT_<KEY>`` (e.g.
``PAYMENTS_CONTACT_SFR_HOTLINE``). Answers are substituted when the FAQ is loaded for the bots
and for ``python -m faq ask/match``; a field with no contact is an error, never shown to a
citizen as ``{key}``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faq.loader import load_faq, read_text
from faq.placeholders import find_placeholders
from faq.problems import FaqError, Problem
from faq.schema import FaqFile
from faq.yaml_source import input_kind, parse_yaml

FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
CONTACTS_FILE = "contacts.yaml"
DIRECTORY_VARIABLE = "FAQ_CONTACTS_DIR"


@dataclass(frozen=True)
class Contacts:
    """Key → value, and where each value came from (``file:line`` or a variable name)."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


def bot_name(faq_path: str | Path) -> str:
    """``bots/payments/faq.yaml`` → ``payments``; ``bots/elsewhere.yaml`` → ``elsewhere``."""
    path = Path(faq_path)
    return path.parent.name if path.name == "faq.yaml" else path.stem


def contacts_path(faq_path: str | Path) -> Path:
    """``bots/payments/contacts.yaml`` for ``bots/payments/faq.yaml``;
    ``bots/elsewhere.contacts.yaml`` for ``bots/elsewhere.yaml``."""
    path = Path(faq_path)
    if path.name == "faq.yaml":
        return path.with_name(CONTACTS_FILE)
    return path.with_name(f"{path.stem}.{CONTACTS_FILE}")


def read_contacts_file(path: Path, into: Contacts) -> None:
    """Add the contacts of one YAML file; FaqError names the line of a bad key or value."""
    file = str(path)
    document = parse_yaml(read_text(path), file)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        msg = "файл контактов должен состоять из строк «ключ: \"значение\"»"
        raise FaqError([Problem(file, 1, None, msg)])
    problems = []
    for key, value in data.items():
        line = document.lines.get((key,))
        if not isinstance(key, str) or not KEY.match(key):
            msg = (f"ключ контакта '{key}' недопустим: латинские строчные буквы, цифры и _, "
                   "начиная с буквы")
            problems.append(Problem(file, line, None, msg))
        elif not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            msg = (f"значение контакта '{key}' должно быть текстом в кавычках, а не "
                   f"{input_kind(value)}")
            problems.append(Problem(file, line, None, msg))
        else:
            into.values[key] = str(value).strip()
            into.sources[key] = f"{file}:{line}"
    if problems:
        raise FaqError(problems)


def load_contacts(faq_path: str | Path, env: Mapping[str, str] | None = None) -> Contacts:
    """The contacts of the bot of ``faq_path``: its file, then the deployment's overrides."""
    env = os.environ if env is None else env
    contacts = Contacts()
    shipped = contacts_path(faq_path)
    if shipped.is_file():
        read_contacts_file(shipped, contacts)
    name = bot_name(faq_path)
    directory = env.get(DIRECTORY_VARIABLE)
    if directory and (Path(directory) / f"{name}.yaml").is_file():
        read_contacts_file(Path(directory) / f"{name}.yaml", contacts)
    prefix = f"{name.upper().replace('-', '_')}_CONTACT_"
    for variable, value in env.items():
        if variable.startswith(prefix) and value.strip():
            key = variable.removeprefix(prefix).lower()
            contacts.values[key] = value.strip()
            contacts.sources[key] = f"${variable}"
    return contacts


def contact_problems(faq: FaqFile, contacts: Contacts) -> list[Problem]:
    """Fields in answers without a contact, and contact values that are placeholders."""
    problems = []
    for number, entry in enumerate(faq.entries):
        for key in dict.fromkeys(FIELD.findall(entry.answer)):
            if key not in contacts.values:
                known = ", ".join(f"{{{k}}}" for k in sorted(contacts.values)) or "их нет"
                msg = (f"в ответе поле {{{key}}}, но такого контакта нет в "
                       f"{contacts_path(faq.path)}: добавьте строку «{key}: \"...\"» или "
                       f"исправьте имя (известные: {known})")
                problems.append(Problem(faq.path, faq.line_of("entries", number, "answer"),
                                        entry.id, msg))
    for key, value in contacts.values.items():
        for fragment in find_placeholders(value):
            where, _, line = contacts.sources[key].rpartition(":")
            if not where or not line.isdigit():
                where, line = contacts.sources[key], ""
            msg = (f"контакт '{key}' — заглушка «{fragment}»: граждане увидят её в ответах; "
                   "впишите настоящий телефон или адрес")
            problems.append(Problem(where, int(line) if line else None, None, msg))
    return problems


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace every known ``{key}``; unknown fields stay (lint reports them)."""
    return FIELD.sub(lambda match: values.get(match.group(1), match.group()), text)


def apply_contacts(faq: FaqFile, contacts: Contacts) -> FaqFile:
    """The FAQ with contacts in its answers; FaqError when a field has no contact."""
    unknown = [p for p in contact_problems(faq, contacts) if p.entry_id is not None]
    if unknown:
        raise FaqError(unknown)
    if not any(FIELD.search(entry.answer) for entry in faq.entries):
        return faq
    entries = tuple(
        entry.model_copy(update={"answer": substitute(entry.answer, contacts.values)})
        for entry in faq.entries
    )
    return faq.model_copy(update={"entries": entries})


def load_faq_with_contacts(path: str | Path, env: Mapping[str, str] | None = None) -> FaqFile:
    """What citizens are answered from: the FAQ with its bot's contacts substituted."""
    return apply_contacts(load_faq(path), load_contacts(path, env))
