"""``python -m faq candidates``: operators' answers marked «В FAQ», as entries to paste.

The bot appends each candidate as a JSON line to ``<dir>/<bot>.jsonl`` (``FAQ_CANDIDATES_DIR``,
default ``data/faq-candidates``). This command prints them as YAML entries in the FAQ format,
newest last, each with a comment naming the ticket, the operator and — when the FAQ already
answers the question — the existing entry, so that an editor adds an alternative instead of a
duplicate. Nothing is changed: the editor reviews and pastes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from faq.matcher import Matcher

DEFAULT_DIR = "data/faq-candidates"


@dataclass(frozen=True)
class Candidate:
    ticket: int
    question: str
    answer: str
    operator: str
    at: str


def read_candidates(path: Path) -> tuple[list[Candidate], list[str]]:
    """Candidates in ``path`` and the problems found (line numbers of broken lines)."""
    candidates: list[Candidate] = []
    problems: list[str] = []
    if not path.is_file():
        return candidates, problems
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
            candidates.append(
                Candidate(
                    int(data["ticket"]),
                    str(data["question"]),
                    str(data["answer"]),
                    str(data.get("operator", "")),
                    str(data.get("at", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path}:{number}: строка повреждена и пропущена")
    return candidates, problems


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _literal)


def format_candidates(
    bot: str, candidates: Iterable[Candidate], matcher: Matcher | None = None
) -> str:
    """YAML entries ready to paste under ``entries:`` of ``bots/<bot>/faq.yaml``."""
    items = list(candidates)
    lines = [
        f"# Кандидаты в FAQ бота {bot}: {len(items)}. Проверьте текст, придумайте id и "
        f"категорию, затем вставьте в bots/{bot}/faq.yaml (раздел entries:)."
    ]
    for candidate in items:
        lines.append("")
        lines.append(
            f"# обращение № {candidate.ticket}, ответ: {candidate.operator or '—'}, "
            f"{candidate.at[:10]}"
        )
        if matcher is not None:
            result = matcher.match(candidate.question)
            if result.decision == "answer" and result.entry_id:
                lines.append(
                    f"# FAQ уже отвечает на этот вопрос записью '{result.entry_id}': "
                    "возможно, лучше добавить формулировку в её alternatives"
                )
        entry = {
            "id": f"candidate-{candidate.ticket}",
            "question": candidate.question.strip(),
            "answer": candidate.answer.strip() + "\n",
        }
        dumped = yaml.dump([entry], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
        lines.append(dumped.rstrip("\n"))
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bot", required=True, help="имя бота (папка в bots/)")
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help=f"папка кандидатов (по умолчанию $FAQ_CANDIDATES_DIR или {DEFAULT_DIR})",
    )
    parser.add_argument(
        "--faq",
        metavar="PATH",
        help="FAQ для проверки повторов (по умолчанию bots/<бот>/faq.yaml)",
    )


def run(args: argparse.Namespace, load_matcher: Callable[[str], Matcher]) -> int:
    directory = Path(args.dir or os.environ.get("FAQ_CANDIDATES_DIR") or DEFAULT_DIR)
    candidates, problems = read_candidates(directory / f"{args.bot}.jsonl")
    for problem in problems:
        sys.stderr.write(problem + "\n")
    faq_path = args.faq or f"bots/{args.bot}/faq.yaml"
    matcher = load_matcher(faq_path) if Path(faq_path).is_file() else None
    sys.stdout.write(format_candidates(args.bot, candidates, matcher))
    return 0
