"""Where a person's words or ids are still in the database: every table, every column.

The tables are reflected from the database itself, so a table added later is scanned too.
Text, JSON and binary values are searched; numbers, times and flags are not (a citizen's id
may stay in an id column: a ban still holds, the bot can answer them again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, MetaData, select


def _hits(value: Any, words: Iterable[str], ids: Iterable[int]) -> list[str]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        return []
    found = [word for word in words if word in value]
    return found + [str(i) for i in ids if re.search(rf"(?<!\d){i}(?!\d)", value)]


def traces(connection: Connection, words: Iterable[str],
           ids: Iterable[int]) -> dict[str, list[str]]:
    """Per table of the database: ``"column: what"`` for each value holding one of ``words``
    or (as a whole number) one of ``ids``; every table is a key, clean ones map to ``[]``."""
    words, ids = tuple(words), tuple(ids)
    metadata = MetaData()
    metadata.reflect(connection)
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        hits = found.setdefault(table.name, [])
        for row in connection.execute(select(table)):
            for column, value in row._mapping.items():
                hits += [f"{column}: {hit}" for hit in _hits(value, words, ids)]
    return found
