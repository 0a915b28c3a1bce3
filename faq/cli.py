"""``python -m faq``: editor tools (lint, match, ask, eval, calibrate). Messages are in Russian.

``match``, ``ask``, ``eval``, ``lint`` and ``calibrate`` use the sentence encoder like the
bots do (``--encoder e5``, the default; ``off`` for words only). The vectors of FAQ phrasings
are kept in the same cache directory as the bots' (``--cache``, ``$FAQ_EMBEDDING_CACHE``,
``data/embeddings``): a cold build shows its progress on stderr, a warm one encodes nothing.

Exit codes: 0 success, 1 checks failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from faq.calibrate import add_calibrate_arguments, run_calibrate
from faq.candidates import add_arguments as add_candidate_arguments
from faq.candidates import run as run_candidates
from faq.contacts import load_faq_with_contacts
from faq.embeddings import cache_file
from faq.encoder import Encoder, load_encoder
from faq.evaluate import as_json, evaluate, render
from faq.lint import lint_path
from faq.matcher import Matcher
from faq.problems import FaqError, FaqReadError
from faq.progress import ProgressLine
from faq.questions import (
    load_questions,
    resolve_faq_path,
    rival_paths,
    unknown_expectations,
)
from faq.results import MatchResult
from faq.semantic import QueryEncoder

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CACHE = "data/embeddings"  # the bots' FAQ_EMBEDDING_CACHE default

_ARGPARSE_RU = (
    ("the following arguments are required", "не хватает аргументов"),
    ("unrecognized arguments", "неизвестные аргументы"),
    ("invalid choice", "недопустимое значение"),
    ("expected one argument", "после ключа нужно значение"),
    ("invalid float value", "ожидалось число"),
    ("argument ", "аргумент "),
)


class UsageError(Exception):
    """Bad command line or input: exit code 2 with a Russian message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        for english, russian in _ARGPARSE_RU:
            message = message.replace(english, russian)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: ошибка: {message}\n")


class Semantics:
    """The encoder chosen on the command line, loaded at first use and shared by every FAQ
    of the run; when it cannot load, one warning and matching by words."""

    def __init__(self, kind: str, cache_dir: Path) -> None:
        self.kind = kind
        self.cache_dir = cache_dir
        self._loaded = False
        self._encoder: QueryEncoder | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Semantics:
        cache = args.cache or os.environ.get("FAQ_EMBEDDING_CACHE") or DEFAULT_CACHE
        return cls(args.encoder, Path(cache))

    @property
    def encoder(self) -> QueryEncoder | None:
        if not self._loaded:
            self._loaded = True
            status = load_encoder(self.kind)
            if status.encoder is not None:
                self._encoder = QueryEncoder(status.encoder)
            elif self.kind != "off":
                _out(f"модель смысла не загрузилась ({status.problem}): сопоставление только "
                     "по словам", sys.stderr)
        return self._encoder

    def cache(self, faq_path: str | Path) -> Path | None:
        encoder = self.encoder
        return None if encoder is None else cache_file(self.cache_dir, faq_path, encoder.model_id)

    @staticmethod
    def progress(faq_path: str | Path) -> ProgressLine:
        return ProgressLine(f"векторы фраз FAQ {faq_path}")

    def matcher(self, faq_path: str | Path) -> Matcher:
        """A matcher for ``faq_path`` (FaqError when the file is broken)."""
        faq = load_faq_with_contacts(faq_path)
        return Matcher(faq, encoder=self.encoder, cache=self.cache(faq_path),
                       progress=self.progress(faq_path))


def add_semantic_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encoder", choices=("e5", "off"), default="e5",
        help="e5 — сопоставлять по смыслу и по словам, как боты (по умолчанию); "
             "off — только по словам")
    parser.add_argument(
        "--cache", metavar="DIR",
        help="папка кэша векторов фраз FAQ (по умолчанию $FAQ_EMBEDDING_CACHE или "
             f"{DEFAULT_CACHE})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m faq", description="Инструменты редактора FAQ-ботов.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    lint = commands.add_parser(
        "lint", help="проверить FAQ-файлы",
        description="Проверить FAQ-файлы: синтаксис, заглушки, контакты, категории, "
                    "формулировки, которые бот спутает. Код 0 — ошибок нет, 1 — есть ошибки, "
                    "2 — файл не прочитать.")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="файлы faq.yaml")
    add_semantic_arguments(lint)

    match = commands.add_parser(
        "match", help="сопоставить вопросы из stdin (по одному в строке)",
        description="Решение бота по каждому вопросу из stdin: ответ, уточнение или оператору, "
                    "с оценками лучшей записи. Пример: python -m faq match --faq "
                    "bots/payments/faq.yaml < вопросы.txt")
    match.add_argument("--faq", required=True, metavar="PATH", help="файл faq.yaml")
    match.add_argument("--json", action="store_true", help="одна строка JSON на вопрос")
    add_semantic_arguments(match)

    ask = commands.add_parser(
        "ask", help="разобрать один вопрос подробно",
        description="Как бот поймёт один вопрос: нормализация, лучшие записи и их оценки, "
                    "решение и текст ответа с подставленными контактами.")
    ask.add_argument("--faq", required=True, metavar="PATH", help="файл faq.yaml")
    ask.add_argument("question", help="вопрос в кавычках")
    add_semantic_arguments(ask)

    ev = commands.add_parser(
        "eval", help="оценить качество на размеченных вопросах",
        description="Доля верных ответов, уточнений и ошибок на размеченных вопросах "
                    "(tests/data/*.yaml).")
    ev.add_argument("--faq", metavar="PATH", help="файл faq.yaml (по умолчанию — из поля faq:)")
    ev.add_argument("--questions", required=True, metavar="FILE", help="размеченные вопросы")
    ev.add_argument("--json", action="store_true", help="отчёт в JSON")
    ev.add_argument("--fail-under", action="store_true", help="код 1, если цели не достигнуты")
    ev.add_argument("--rival", action="append", default=[], metavar="PATH",
                    help="FAQ другого бота или справочник служб, забирающие вопросы, как в "
                         "работающих ботах (ключ можно повторять; по умолчанию — из поля rivals:)")
    add_semantic_arguments(ev)

    calibrate = commands.add_parser(
        "calibrate", help="подобрать пороги по размеченным вопросам",
        description="Подобрать пороги ответа и уточнения по размеченным вопросам.")
    add_calibrate_arguments(calibrate)
    add_semantic_arguments(calibrate)

    candidates = commands.add_parser(
        "candidates", help="ответы операторов, отмеченные «В FAQ», как записи",
        description="Ответы операторов, отмеченные кнопкой «В FAQ», в виде готовых записей "
                    "FAQ для редактора.")
    add_candidate_arguments(candidates)
    return parser


def _out(text: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text + "\n")


def _report_faq_error(exc: FaqError) -> None:
    for problem in exc.problems:
        _out(str(problem), sys.stderr)


def _load_matcher(path: str, semantics: Semantics | None = None) -> Matcher:
    try:
        if semantics is not None:
            return semantics.matcher(path)
        return Matcher(load_faq_with_contacts(path))
    except FaqReadError:
        raise
    except FaqError as exc:
        _report_faq_error(exc)
        msg = (
            f"FAQ-файл {path} содержит ошибки: исправьте их (подробно: python -m faq lint {path})"
        )
        raise UsageError(msg) from None


def cmd_lint(args: argparse.Namespace) -> int:
    failed = unreadable = False
    semantics = Semantics.from_args(args)
    for path in args.paths:
        try:
            problems = lint_path(path, encoder=_raw(semantics), cache=semantics.cache(path),
                                 progress=semantics.progress(path))
        except FaqReadError as exc:
            _report_faq_error(exc)
            unreadable = True
            continue
        for problem in problems:
            _out(str(problem))
        failed = failed or any(p.severity == "error" for p in problems)
        if not problems:
            _out(f"{path}: замечаний нет")
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAILED if failed else EXIT_OK


def read_questions(stream: TextIO) -> list[str]:
    """Lines of stdin decoded as UTF-8 with replacement (bad bytes never crash)."""
    raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _raw(semantics: Semantics) -> Encoder | None:
    encoder = semantics.encoder
    return None if encoder is None else encoder.encoder


TABLE_HEADER = f"{'решение':<10} {'итог':>5} {'слова':>5} {'смысл':>5}  {'запись':<40}  вопрос"


def _table_row(result: MatchResult) -> str:
    """Decision, then the top entry's combined, lexical (0–100) and semantic (cosine) scores."""
    if result.decision == "answer":
        target = result.entry_id or ""
    elif result.decision == "clarify":
        target = " | ".join(c.entry_id for c in result.candidates)
    else:
        target = "—"
    top = result.explanation.top[0] if result.explanation.top else None
    lexical = top.lexical_score if top is not None else 0.0
    semantic = f"{top.semantic:5.3f}" if top is not None and top.semantic is not None else "    —"
    question = result.question if len(result.question) <= 80 else result.question[:77] + "..."
    decision = {"answer": "ответ", "clarify": "уточнить", "escalate": "оператору"}[result.decision]
    scores = f"{result.score:5.1f} {lexical:5.1f} {semantic}"
    return f"{decision:<10} {scores}  {target:<40}  {question}"


def cmd_match(args: argparse.Namespace) -> int:
    matcher = _load_matcher(args.faq, Semantics.from_args(args))
    questions = read_questions(sys.stdin)
    if not args.json:
        _out(TABLE_HEADER)
    lines = []
    for question in questions:
        result = matcher.match(question)
        if args.json:
            lines.append(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            lines.append(_table_row(result))
    if lines:
        _out("\n".join(lines))
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    matcher = _load_matcher(args.faq, Semantics.from_args(args))
    result = matcher.match(args.question)
    _out(result.explain())
    if result.decision == "answer" and result.entry_id is not None:
        _out(f"\nОтвет ({result.entry_id}):\n{matcher.faq.entry(result.entry_id).answer.strip()}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    questions = load_questions(args.questions)
    faq_path = args.faq or resolve_faq_path(args.questions, questions.faq)
    if faq_path is None:
        msg = f"{args.questions}: нет поля faq: — укажите файл FAQ ключом --faq"
        raise UsageError(msg)
    semantics = Semantics.from_args(args)
    matcher = _load_matcher(str(faq_path), semantics)
    problems = unknown_expectations(questions, set(matcher.index.entry_ids), args.questions)
    if problems:
        raise FaqError(problems)
    rivals = {str(path): _load_matcher(str(path), semantics)
              for path in rival_paths(args.questions, questions, args.rival)}
    report = evaluate(matcher, questions.questions, rivals)
    encoder = matcher.encoder.model_id if matcher.encoder is not None else None
    if args.json:
        data = as_json(report, faq=str(faq_path), questions=args.questions)
        data["encoder"] = encoder  # None: matched by words only
        _out(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        how = f"по смыслу ({encoder}) и по словам" if encoder else "только по словам"
        _out(render(report, title=f"{args.questions} → {faq_path}; сопоставление {how}"))
    if args.fail_under:
        failures = report.failed_targets()
        for failure in failures:
            _out(f"цель не достигнута: {failure}", sys.stderr)
        return EXIT_FAILED if failures else EXIT_OK
    return EXIT_OK


def cmd_candidates(args: argparse.Namespace) -> int:
    return run_candidates(args, _load_matcher)


def cmd_calibrate(args: argparse.Namespace) -> int:
    # calibrate builds its matchers itself; ``args.load_matcher`` builds one the way the other
    # commands do (with the chosen encoder and cache), for it to use
    semantics = Semantics.from_args(args)
    args.load_matcher = semantics.matcher
    return run_calibrate(args)


COMMANDS = {
    "lint": cmd_lint,
    "match": cmd_match,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "calibrate": cmd_calibrate,
    "candidates": cmd_candidates,
}


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_streams()
    args = build_parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args))
    except FaqError as exc:
        _report_faq_error(exc)
        return EXIT_USAGE
    except UsageError as exc:
        _out(f"ошибка: {exc}", sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing left to say
        return EXIT_OK


def run() -> NoReturn:
    sys.exit(main())


__all__ = ["main", "run"]
