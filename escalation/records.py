"""What citizens asked and what became of it.

:class:`Records` is the only writer of ``citizens``, ``questions`` and ``question_events``
(:mod:`escalation.retention` only erases their personal texts). Each method is one
transaction (``record_question``'s is shared with other handlers' writes, see
:mod:`escalation.batching`); callers never see a session. Questions are stored with personal
numbers masked (:func:`escalation.privacy.mask`).
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from escalation.batching import GroupCommit, Operation, group_commit_of
from escalation.db import insert_into
from escalation.models import Citizen, Question, QuestionEvent
from escalation.privacy import mask
from escalation.scope import may_be_replay

log = logging.getLogger(__name__)

# Primary keys are 32-bit; a larger id (forged button data) cannot exist and, on PostgreSQL,
# cannot even be bound as a parameter.
_MAX_ID: Final = 2**31 - 1

CLARIFY_PICK: Final = "clarify_pick"
FEEDBACK_DOWN: Final = "feedback_down"

# Every question is written with the two statements below. They are built once and executed
# with parameters, on the tables rather than through the ORM unit of work: constructing an
# INSERT with .values() and flushing an ORM object cost about as much CPU as the rest of the
# round trip (~1.3 ms of ~2.9 ms per question on SQLite), for the same SQL.
_CITIZENS: Final = cast(Table, Citizen.__table__)
_QUESTIONS: Final = cast(Table, Question.__table__)
# The columns are those of the parameters. Many questions at once (a batch of the group
# commit) are one multi-row INSERT whose ids come back in the order of the parameters.
_INSERT_QUESTION: Final = insert(_QUESTIONS).returning(_QUESTIONS.c.id,
                                                       sort_by_parameter_order=True)
# SQLite has no ordered RETURNING, and SQLAlchemy would insert row by row to keep the order;
# but one INSERT gives its rows increasing rowids in the order of its VALUES, so the ids are
# sorted instead (see _inserted_ids).
_INSERT_QUESTION_SQLITE: Final = insert(_QUESTIONS).returning(_QUESTIONS.c.id)
_SAME_MESSAGE: Final = select(_QUESTIONS.c.id).where(
    _QUESTIONS.c.chat_id == bindparam("chat_id"),
    _QUESTIONS.c.tg_message_id == bindparam("tg_message_id"),
    _QUESTIONS.c.bot == bindparam("bot"), _QUESTIONS.c.source == bindparam("source"),
).limit(1)
@dataclass(frozen=True, slots=True)
class _NewQuestion:
    citizen: dict[str, Any]
    question: dict[str, Any]  # without citizen_id
    check_duplicate: bool


async def _record_questions(connection: AsyncConnection,
                            items: Sequence[_NewQuestion]) -> list[int]:
    """Questions and their citizens, with a few statements for the whole batch."""
    ids: list[int | None] = [None] * len(items)
    for index, item in enumerate(items):
        if item.check_duplicate:
            ids[index] = (await connection.execute(
                _SAME_MESSAGE, item.question)).scalar_one_or_none()
    new = [index for index, found in enumerate(ids) if found is None]
    if new:
        # One upsert per citizen (the last message's name wins): a multi-row upsert must not
        # touch a row twice.
        citizens = {(items[i].citizen["bot"], items[i].citizen["tg_user_id"]): items[i].citizen
                    for i in new}
        citizen_ids = {(bot, user): row_id for row_id, bot, user in await connection.execute(
            _citizen_upsert(connection.dialect.name), list(citizens.values()))}
        rows = [items[i].question | {"citizen_id": citizen_ids[
            items[i].citizen["bot"], items[i].citizen["tg_user_id"]]} for i in new]
        inserted = await _inserted_ids(connection, rows)
        for index, row_id in zip(new, inserted, strict=True):
            ids[index] = row_id
    return [row_id for row_id in ids if row_id is not None]


async def _inserted_ids(connection: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the questions in one statement; their ids in the order of ``rows``."""
    if connection.dialect.name != "sqlite":
        return list((await connection.execute(_INSERT_QUESTION, rows)).scalars())
    ids = sorted((await connection.execute(_INSERT_QUESTION_SQLITE, rows)).scalars())
    if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:  # never seen
        msg = f"{len(rows)} questions inserted, ids {ids[:3]}...: cannot tell which is which"
        raise RuntimeError(msg)
    return ids


_RECORD_QUESTION: Final = Operation("record question", _record_questions)


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UnansweredReason(StrEnum):
    ESCALATED = "escalated"
    CLARIFY_ABANDONED = "clarify_abandoned"
    NOT_HELPFUL = "not_helpful"


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A recorded question as handlers see it.

    ``bot`` and ``tg_user_id`` let a callback handler check that a button belongs to this bot
    and to the citizen who pressed it.
    """

    id: int
    bot: str
    citizen_id: int
    tg_user_id: int
    chat_id: int
    tg_message_id: int | None
    text: str
    source: str
    kind: str
    decision: str | None
    entry_id: str | None
    score: float | None
    candidates: tuple[tuple[str, float], ...]
    outcome: str | None
    entry_shown: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UnansweredItem:
    question_id: int
    text: str
    reason: UnansweredReason
    created_at: datetime


def _valid_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


def _candidates_json(candidates: Iterable[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"entry_id": entry_id, "score": float(score)} for entry_id, score in candidates]


def _candidates_view(stored: list[dict[str, Any]] | None) -> tuple[tuple[str, float], ...]:
    return tuple((str(item["entry_id"]), float(item["score"])) for item in stored or ())


class Records:
    """Records questions, the citizen's later actions on them, and reports on both."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utc_now,
        writes: GroupCommit | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writes = writes or group_commit_of(sessions)

    async def touch_citizen(
        self, *, bot: str, tg_user_id: int, display_name: str | None, username: str | None
    ) -> int:
        """Create or refresh the citizen (name, username, last seen); returns its id."""
        async with self._sessions.begin() as session:
            return await self._touch_citizen(
                session,
                bot=bot,
                tg_user_id=tg_user_id,
                display_name=display_name,
                username=username,
                now=self._clock(),
            )

    async def record_question(
        self,
        *,
        bot: str,
        tg_user_id: int,
        display_name: str | None,
        username: str | None,
        chat_id: int,
        tg_message_id: int | None,
        text: str,
        source: str,
        kind: str,
        decision: str | None = None,
        entry_id: str | None = None,
        score: float | None = None,
        candidates: Iterable[tuple[str, float]] = (),
        outcome: str | None = None,
        entry_shown: str | None = None,
    ) -> int:
        """Store an incoming question (and touch its citizen); returns the question id.

        The text is stored masked: passport, СНИЛС, ИНН and card numbers never reach the
        database (:func:`escalation.privacy.mask`). ``candidates`` are ``(entry_id, score)``
        pairs, best first. When the question was ``answered`` right away, ``entry_shown``
        defaults to ``entry_id``.
        """
        now = self._clock()
        if entry_shown is None and outcome == "answered":
            entry_shown = entry_id
        citizen = {"bot": bot, "tg_user_id": tg_user_id, "display_name": display_name,
                   "username": username, "first_seen_at": now, "last_seen_at": now}
        question = {
            "bot": bot, "chat_id": chat_id, "tg_message_id": tg_message_id, "text": mask(text),
            "source": source, "created_at": now, "kind": kind, "decision": decision,
            "entry_id": entry_id, "score": score, "candidates": _candidates_json(candidates),
            "outcome": outcome, "entry_shown": entry_shown,
        }
        # The same message handled again (after a crash or a failed attempt) is recorded
        # once; on an update's first attempt there is nothing to look up.
        check = tg_message_id is not None and may_be_replay()
        question_id: int = await self._writes.submit(
            _RECORD_QUESTION, _NewQuestion(citizen, question, check))
        log.debug(
            "Recorded question %d of %s: kind=%s decision=%s", question_id, bot, kind, decision
        )
        return question_id

    async def record_event(
        self,
        *,
        question_id: int,
        kind: str,
        entry_id: str | None = None,
        outcome: str | None = None,
    ) -> bool:
        """Append an event to a question and move its outcome on, if ``outcome`` is given.

        A ``clarify_pick`` also sets the entry shown to ``entry_id``. Returns False, changing
        nothing, when there is no such question (stale or forged button data).
        """
        if not _valid_id(question_id):
            return False
        now = self._clock()
        async with self._sessions.begin() as session:
            question = await session.get(Question, question_id)
            if question is None:
                log.debug("Event %s for unknown question %d ignored", kind, question_id)
                return False
            session.add(
                QuestionEvent(
                    question_id=question_id, kind=kind, entry_id=entry_id, created_at=now
                )
            )
            if outcome is not None:
                question.outcome = outcome
            if kind == CLARIFY_PICK and entry_id is not None:
                question.entry_shown = entry_id
        return True

    async def get_question(self, question_id: int) -> QuestionView | None:
        """The question with this id, or None if there is none."""
        if not _valid_id(question_id):
            return None
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    select(Question, Citizen.tg_user_id)
                    .join(Citizen, Citizen.id == Question.citizen_id)
                    .where(Question.id == question_id)
                )
            ).one_or_none()
        if row is None:
            return None
        question, tg_user_id = row
        return QuestionView(
            id=question.id,
            bot=question.bot,
            citizen_id=question.citizen_id,
            tg_user_id=tg_user_id,
            chat_id=question.chat_id,
            tg_message_id=question.tg_message_id,
            text=question.text,
            source=question.source,
            kind=question.kind,
            decision=question.decision,
            entry_id=question.entry_id,
            score=question.score,
            candidates=_candidates_view(question.candidates),
            outcome=question.outcome,
            entry_shown=question.entry_shown,
            created_at=question.created_at,
        )

    async def unanswered(self, *, bot: str, since: datetime) -> list[UnansweredItem]:
        """Questions of ``bot`` asked since ``since`` that the FAQ did not settle, oldest first.

        A question is listed once, with the first matching reason of: ``escalated`` (the
        matcher escalated it, except when it was redirected to another bot, or the citizen
        asked for a person), ``not_helpful`` (the citizen pressed 👎), ``clarify_abandoned``
        (the matcher asked to clarify and the citizen picked none of the options).
        """
        picked = (
            select(QuestionEvent.id)
            .where(QuestionEvent.question_id == Question.id, QuestionEvent.kind == CLARIFY_PICK)
            .exists()
        )
        disliked = (
            select(QuestionEvent.id)
            .where(QuestionEvent.question_id == Question.id, QuestionEvent.kind == FEEDBACK_DOWN)
            .exists()
        )
        escalated = or_(
            Question.outcome == "escalated",
            and_(Question.decision == "escalate", Question.kind != "redirect"),
        )
        abandoned = and_(Question.decision == "clarify", ~picked, Question.kind != "redirect")
        statement = (
            select(
                Question.id,
                Question.text,
                Question.created_at,
                escalated.label("escalated"),
                disliked.label("disliked"),
            )
            .where(Question.bot == bot, Question.created_at >= since)
            .where(or_(escalated, disliked, abandoned))
            .order_by(Question.created_at, Question.id)
        )
        async with self._sessions.begin() as session:
            rows = (await session.execute(statement)).all()
        items = []
        for row in rows:
            if row.escalated:
                reason = UnansweredReason.ESCALATED
            elif row.disliked:
                reason = UnansweredReason.NOT_HELPFUL
            else:
                reason = UnansweredReason.CLARIFY_ABANDONED
            items.append(UnansweredItem(row.id, row.text, reason, row.created_at))
        return items

    async def stats(self, *, bot: str, since: datetime) -> dict[str, int]:
        """Counts over the questions of ``bot`` asked since ``since``.

        Keys: ``total``, ``kind:<kind>``, ``decision:<decision>``, ``outcome:<outcome>`` and
        ``event:<event kind>`` (events on those questions). ``total`` is always present; other
        zero counts are left out.
        """
        scope = and_(Question.bot == bot, Question.created_at >= since)
        counts: Counter[str] = Counter()
        async with self._sessions.begin() as session:
            for prefix, column in (
                ("kind", Question.kind),
                ("decision", Question.decision),
                ("outcome", Question.outcome),
            ):
                rows = await session.execute(
                    select(column, func.count()).where(scope, column.is_not(None)).group_by(column)
                )
                counts.update({f"{prefix}:{value}": n for value, n in rows})
            counts["total"] = sum(v for k, v in counts.items() if k.startswith("kind:"))
            rows = await session.execute(
                select(QuestionEvent.kind, func.count())
                .join(Question, Question.id == QuestionEvent.question_id)
                .where(scope)
                .group_by(QuestionEvent.kind)
            )
            counts.update({f"event:{value}": n for value, n in rows})
        return {key: n for key, n in counts.items() if n or key == "total"}

    async def _touch_citizen(
        self,
        session: AsyncSession,
        *,
        bot: str,
        tg_user_id: int,
        display_name: str | None,
        username: str | None,
        now: datetime,
    ) -> int:
        """``INSERT ... ON CONFLICT DO UPDATE ... RETURNING id``, atomic on both backends.

        The database resolves concurrent first messages of one citizen itself: there is no
        select-then-insert window, hence no unique violation to catch and retry.
        """
        result = await session.execute(
            _citizen_upsert(session.get_bind().dialect.name),
            {
                "bot": bot,
                "tg_user_id": tg_user_id,
                "display_name": display_name,
                "username": username,
                "first_seen_at": now,
                "last_seen_at": now,
            },
        )
        citizen_id: int = result.scalar_one()
        return citizen_id


@functools.cache
def _citizen_upsert(dialect: str) -> Any:
    """The citizen upsert of :meth:`Records._touch_citizen` for ``dialect``, built once."""
    upsert = insert_into(dialect)(_CITIZENS)
    return upsert.on_conflict_do_update(
        index_elements=[_CITIZENS.c.bot, _CITIZENS.c.tg_user_id],
        set_={
            "display_name": upsert.excluded.display_name,
            "username": upsert.excluded.username,
            "last_seen_at": upsert.excluded.last_seen_at,
        },
    ).returning(_CITIZENS.c.id, _CITIZENS.c.bot, _CITIZENS.c.tg_user_id)
