"""``python -m faq``: editor tools (lint, match, ask, eval, calibrate). Messages are in Russian.

Exit codes: 0 success, 1 checks failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from faq.calibrate import add_calibrate_arguments, run_calibrate
from faq.candidates import add_arguments as add_candidate_arguments
from faq.candidates import run as run_candidates
from faq.evaluate import as_json, evaluate, render
from faq.lint import lint_path
from faq.loader import load_faq
from faq.matcher import Matcher
from faq.problems import FaqError, FaqReadError
from faq.questions import load_questions, resolve_faq_path, unknown_expectations
from faq.results import MatchResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m faq", description="Инструменты редактора FAQ-ботов.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    lint = commands.add_parser("lint", help="проверить FAQ-файлы")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="файлы faq.yaml")

    match = commands.add_parser("match", help="сопоставить вопросы из stdin (по одному в строке)")
    match.add_argument("--faq", required=True, metavar="PATH", help="файл faq.yaml")
    match.add_argument("--json", action="store_true", help="одна строка JSON на вопрос")

    ask = commands.add_parser("ask", help="разобрать один вопрос подробно")
    ask.add_argument("--faq", required=True, metavar="PATH", help="файл faq.yaml")
    ask.add_argument("question", help="вопрос в кавычках")

    ev = commands.add_parser("eval", help="оценить качество на размеченных вопросах")
    ev.add_argument("--faq", metavar="PATH", help="файл faq.yaml (по умолчанию — из поля faq:)")
    ev.add_argument("--questions", required=True, metavar="FILE", help="размеченные вопросы")
    ev.add_argument("--json", action="store_true", help="отчёт в JSON")
    ev.add_argument("--fail-under", action="store_true", help="код 1, если цели не достигнуты")

    calibrate = commands.add_parser("calibrate", help="подобрать пороги по размеченным вопросам")
    add_calibrate_arguments(calibrate)

    candidates = commands.add_parser(
        "candidates", help="ответы операторов, отмеченные «В FAQ», как записи"
    )
    add_candidate_arguments(candidates)
    return parser


def _out(text: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text + "\n")


def _report_faq_error(exc: FaqError) -> None:
    for problem in exc.problems:
        _out(str(problem), sys.stderr)


def _load_matcher(path: str) -> Matcher:
    try:
        return Matcher(load_faq(path))
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
    for path in args.paths:
        try:
            problems = lint_path(path)
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


def _table_row(result: MatchResult) -> str:
    if result.decision == "answer":
        target = result.entry_id or ""
    elif result.decision == "clarify":
        target = " | ".join(c.entry_id for c in result.candidates)
    else:
        target = "—"
    question = result.question if len(result.question) <= 80 else result.question[:77] + "..."
    decision = {"answer": "ответ", "clarify": "уточнить", "escalate": "оператору"}[result.decision]
    return f"{decision:<10} {result.score:5.1f}  {target:<40}  {question}"


def cmd_match(args: argparse.Namespace) -> int:
    matcher = _load_matcher(args.faq)
    questions = read_questions(sys.stdin)
    if not args.json:
        _out(f"{'решение':<10} {'оценка':>5}  {'запись':<40}  вопрос")
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
    matcher = _load_matcher(args.faq)
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
    matcher = _load_matcher(str(faq_path))
    problems = unknown_expectations(questions, set(matcher.index.entry_ids), args.questions)
    if problems:
        raise FaqError(problems)
    report = evaluate(matcher, questions.questions)
    if args.json:
        data = as_json(report, faq=str(faq_path), questions=args.questions)
        _out(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _out(render(report, title=f"{args.questions} → {faq_path}"))
    if args.fail_under:
        failures = report.failed_targets()
        for failure in failures:
            _out(f"цель не достигнута: {failure}", sys.stderr)
        return EXIT_FAILED if failures else EXIT_OK
    return EXIT_OK


def cmd_candidates(args: argparse.Namespace) -> int:
    return run_candidates(args, _load_matcher)


COMMANDS = {
    "lint": cmd_lint,
    "match": cmd_match,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "calibrate": run_calibrate,
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
