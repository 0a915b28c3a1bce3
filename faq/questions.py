"""Labelled question sets (tests/data/*.yaml): questions with the entry that must answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from faq.loader import read_text, validation_problems
from faq.problems import FaqError, Problem
from faq.yaml_source import parse_yaml

OUT_OF_SCOPE = "none"


def _as_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _expect(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", OUT_OF_SCOPE}):
        return None
    return value


class LabelledQuestion(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    q: Annotated[str, BeforeValidator(_as_text)]
    expect: Annotated[str | None, BeforeValidator(_expect)]
    kind: Annotated[str, BeforeValidator(_as_text)] = "other"

    @property
    def in_scope(self) -> bool:
        return self.expect is not None


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    faq: str | None = None
    # FAQ-format files that compete for the questions as in the running bots: the other
    # bots' FAQs and the directory of other channels (faq.routing)
    rivals: tuple[str, ...] = ()
    questions: tuple[LabelledQuestion, ...]


def load_questions(path: str | Path) -> QuestionSet:
    file = str(path)
    document = parse_yaml(read_text(path), file)
    try:
        return QuestionSet.model_validate(document.data)
    except ValidationError as exc:
        raise FaqError(validation_problems(exc, document.data, document.lines, file)) from None


def resolve_faq_path(questions_path: str | Path, declared: str | None) -> Path | None:
    """The FAQ named by a question set: relative to the working directory, else to the set."""
    if declared is None:
        return None
    candidate = Path(declared)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    for parent in Path(questions_path).resolve().parents:
        if (parent / declared).exists():
            return parent / declared
    return candidate


def rival_paths(questions_path: str | Path, questions: QuestionSet,
                given: list[str] | None = None) -> list[Path]:
    """The rivals named on the command line, else those the question set declares."""
    if given:
        return [Path(path) for path in given]
    return [path for declared in questions.rivals
            if (path := resolve_faq_path(questions_path, declared)) is not None]


def unknown_expectations(questions: QuestionSet, ids: set[str], file: str) -> list[Problem]:
    return [
        Problem(file, None, None, f"вопрос «{item.q}» ждёт запись '{item.expect}', её нет в FAQ")
        for item in questions.questions
        if item.expect is not None and item.expect not in ids
    ]
