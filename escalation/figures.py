"""Figures of the supervisors' report: questions, tickets and response times, day by day.

Two steps. :func:`load_samples` and :func:`load_snapshot` read one bot's rows (a few queries,
no aiogram) into plain values; :func:`compute` turns samples of one bot, or of several bots
added together, into :class:`Figures`. Every number of the report is one field or property of
:class:`BucketFigures` or :class:`Snapshot`, defined there and nowhere else (``docs/report.md``
repeats the definitions for readers).

A period is whole days in one time zone; buckets are days, or weeks (Monday to Sunday, clipped
to the period) when the period is longer than :data:`WEEKLY_AFTER_DAYS`. Everything is seen
"as of" the end of the period, or now if that is earlier: an answer given after the period
does not count, so a report on a past week gives the same numbers whenever it is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import Question, QuestionEvent, Ticket, TicketEvent
from escalation.states import OPEN_STATES
from escalation.stats import percentile
from escalation.worktime import WorkSchedule

#: Question kinds that are questions to answer (not small talk, menus, media, flood, empty
#: messages or follow-ups of an open ticket).
QUESTION_KINDS: Final = ("faq", "browse", "redirect", "offtopic", "person")
#: Outcomes of a question the bot settled itself (its answer, not disliked).
BOT_ANSWERED: Final = ("answered", "helpful")
THUMBS: Final = {"feedback_up": 1, "feedback_down": -1}
GOOD_RATING: Final = 4  # ratings of 4 and 5 count as satisfied
WEEKLY_AFTER_DAYS: Final = 42
OLDEST_SHOWN: Final = 10
_OPEN: Final = tuple(s.value for s in OPEN_STATES)
_HOUR: Final = 3600.0


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days ``first``…``last`` (both included) in the time zone ``tz``."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.tz).astimezone(UTC)

    @property
    def weekly(self) -> bool:
        return (self.last - self.first).days + 1 > WEEKLY_AFTER_DAYS

    def buckets(self) -> list[tuple[date, date]]:
        """``(first day, last day)`` of every day, or of every week when :attr:`weekly`."""
        spans = []
        day = self.first
        while day <= self.last:
            last = day + timedelta(days=6 - day.weekday()) if self.weekly else day
            spans.append((day, min(last, self.last)))
            day = spans[-1][1] + timedelta(days=1)
        return spans

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()


@dataclass(frozen=True, slots=True)
class QuestionSample:
    at: datetime
    answered_by_bot: bool
    answer_shown: bool
    thumbs: int  # +1 👍, -1 👎, 0 none; the citizen's last press counts


@dataclass(frozen=True, slots=True)
class TicketSample:
    id: int
    at: datetime
    response_hours: float | None  # working hours to the first response, None without one
    late: bool
    rating: int | None
    rating_asked: bool


@dataclass(frozen=True, slots=True)
class Samples:
    """One bot's rows for a period; ``a + b`` is the rows of both (the overall report)."""

    questions: tuple[QuestionSample, ...] = ()
    tickets: tuple[TicketSample, ...] = ()
    #: (ticket, when, open after it): every state change before the period's end, in order
    states: tuple[tuple[int, datetime, bool], ...] = ()
    reopens: tuple[tuple[int, datetime], ...] = ()  # (ticket, when) within the period

    def __add__(self, other: Samples) -> Samples:
        return Samples(
            self.questions + other.questions, self.tickets + other.tickets,
            tuple(sorted(self.states + other.states, key=lambda s: s[1])),  # stable: keeps order
            self.reopens + other.reopens,
        )


@dataclass(frozen=True, slots=True)
class OpenTicket:
    id: int
    bot: str
    created_at: datetime
    waiting_hours: float  # working hours since it was opened
    over_sla: bool
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The queue when the report is made (not at the period's end)."""

    open_now: int = 0
    """Open tickets (new or in work) now: the backlog at the moment of the report."""
    open_over_sla: int = 0
    """Open tickets still without a first response past their deadline, now."""
    oldest: tuple[OpenTicket, ...] = ()
    """Up to :data:`OLDEST_SHOWN` open tickets, the longest waiting first."""

    def __add__(self, other: Snapshot) -> Snapshot:
        oldest = sorted(self.oldest + other.oldest, key=lambda t: (t.created_at, t.id))
        return Snapshot(self.open_now + other.open_now,
                        self.open_over_sla + other.open_over_sla,
                        tuple(oldest[:OLDEST_SHOWN]))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _quantile(values: Sequence[float], share: float) -> float | None:
    """:func:`escalation.stats.percentile` (the one used by ``/stats``) to a millionth (of an
    hour: under 4 ms, so that equal inputs give equal figures); None for no values."""
    value = percentile(values, share)
    return None if value is None else round(value, 6)


@dataclass(frozen=True, slots=True)
class BucketFigures:
    """The figures of one day or week (or, in :attr:`Figures.total`, the whole period)."""

    first: date
    last: date
    questions: int = 0
    """Questions received: messages of the kinds in :data:`QUESTION_KINDS`."""
    answered_by_bot: int = 0
    """Of those, settled by the bot: it answered and the citizen did not press 👎."""
    handed_to_people: int = 0
    """Tickets opened (questions handed to operators), by the day they were opened."""
    responses: int = 0
    """Tickets opened then that got a first operator answer (by the report's "as of")."""
    response_p50_hours: float | None = None
    """Median time to the first answer of those tickets, in working hours."""
    response_p90_hours: float | None = None
    """90th percentile of the same times: nine tickets in ten were answered sooner."""
    over_sla: int = 0
    """Tickets opened then whose first answer came after the deadline, or that had none by
    the "as of" moment past their deadline (closed unanswered before it: not late)."""
    backlog: int = 0
    """Open tickets (new or in work) at the end of the day or week."""
    answers_shown: int = 0
    """Questions to which the bot showed an FAQ answer (then asked "Помог ли ответ?")."""
    thumbs_up: int = 0
    """Of those, the citizen's last press was 👍."""
    thumbs_down: int = 0
    """Of those, the citizen's last press was 👎."""
    rating_asked: int = 0
    """Tickets whose citizen said "вопрос решён" and so was asked for a 1–5 rating."""
    ratings: int = 0
    """Tickets rated 1–5 by the citizen."""
    ratings_good: int = 0
    """Of those, rated 4 or 5."""
    reopened: int = 0
    """Tickets reopened then (the citizen wrote again or said the answer did not help)."""

    @property
    def bot_resolution_rate(self) -> float | None:
        """Share of questions settled by the bot: ``answered_by_bot / questions``."""
        return _share(self.answered_by_bot, self.questions)

    @property
    def thumbs_up_share(self) -> float | None:
        """Share of 👍 among the presses: ``thumbs_up / (thumbs_up + thumbs_down)``."""
        return _share(self.thumbs_up, self.thumbs_up + self.thumbs_down)

    @property
    def feedback_rate(self) -> float | None:
        """How often citizens answer "Помог ли ответ?": presses / ``answers_shown``."""
        return _share(self.thumbs_up + self.thumbs_down, self.answers_shown)

    @property
    def ratings_good_share(self) -> float | None:
        """Share of ratings 4–5: ``ratings_good / ratings``."""
        return _share(self.ratings_good, self.ratings)

    @property
    def rating_rate(self) -> float | None:
        """How often citizens answer the rating question: ``ratings / rating_asked``."""
        return _share(self.ratings, self.rating_asked)


@dataclass(frozen=True, slots=True)
class Figures:
    period: Period
    buckets: tuple[BucketFigures, ...]
    total: BucketFigures  # the whole period; its ``backlog`` is the one at the period's end
    snapshot: Snapshot = field(default_factory=Snapshot)
    target_hours: float | None = None  # first-response target; None: bots' targets differ

    @property
    def has_data(self) -> bool:
        """Anything happened in the period or is waiting now."""
        t = self.total
        return bool(t.questions or t.handed_to_people or t.reopened or self.snapshot.open_now
                    or any(b.backlog for b in self.buckets))


def _bucket(first: date, last: date, questions: list[QuestionSample],
            tickets: list[TicketSample], reopened: set[int], backlog: int) -> BucketFigures:
    times = [t.response_hours for t in tickets if t.response_hours is not None]
    shown = [q for q in questions if q.answer_shown]
    rated = [t.rating for t in tickets if t.rating is not None]
    return BucketFigures(
        first, last,
        questions=len(questions),
        answered_by_bot=sum(q.answered_by_bot for q in questions),
        handed_to_people=len(tickets),
        responses=len(times),
        response_p50_hours=_quantile(times, 0.5),
        response_p90_hours=_quantile(times, 0.9),
        over_sla=sum(t.late for t in tickets),
        backlog=backlog,
        answers_shown=len(shown),
        thumbs_up=sum(q.thumbs > 0 for q in shown),
        thumbs_down=sum(q.thumbs < 0 for q in shown),
        rating_asked=sum(t.rating_asked for t in tickets),
        ratings=len(rated),
        ratings_good=sum(r >= GOOD_RATING for r in rated),
        reopened=len(reopened),
    )


def _backlogs(states: Iterable[tuple[int, datetime, bool]], ends: list[datetime]) -> list[int]:
    """Open tickets at each moment of ``ends`` (ascending), replaying the state changes."""
    is_open: dict[int, bool] = {}
    counts = []
    changes = iter(states)
    pending = next(changes, None)
    for end in ends:
        while pending is not None and pending[1] < end:
            is_open[pending[0]] = pending[2]
            pending = next(changes, None)
        counts.append(sum(is_open.values()))
    return counts


def compute(samples: Samples, period: Period, *, snapshot: Snapshot | None = None,
            target_hours: float | None = None) -> Figures:
    """The figures of every bucket of ``period`` and of the whole period."""
    spans = period.buckets()
    index = {day: n for n, (first, last) in enumerate(spans)
             for day in (first + timedelta(days=d) for d in range((last - first).days + 1))}
    questions: list[list[QuestionSample]] = [[] for _ in spans]
    tickets: list[list[TicketSample]] = [[] for _ in spans]
    reopened: list[set[int]] = [set() for _ in spans]
    for q in samples.questions:
        if (n := index.get(period.day_of(q.at))) is not None:
            questions[n].append(q)
    for t in samples.tickets:
        if (n := index.get(period.day_of(t.at))) is not None:
            tickets[n].append(t)
    for ticket_id, at in samples.reopens:
        if (n := index.get(period.day_of(at))) is not None:
            reopened[n].add(ticket_id)
    ends = [datetime.combine(last + timedelta(days=1), time(0), period.tz) for _, last in spans]
    backlogs = _backlogs(samples.states, ends)
    buckets = tuple(_bucket(first, last, questions[n], tickets[n], reopened[n], backlogs[n])
                    for n, (first, last) in enumerate(spans))
    total = _bucket(period.first, period.last, [q for b in questions for q in b],
                    [t for b in tickets for t in b], set().union(*reopened),
                    backlogs[-1] if backlogs else 0)
    return Figures(period, buckets, total, snapshot or Snapshot(), target_hours)


# --- reading ------------------------------------------------------------------------------------


async def _questions(session: AsyncSession, bot: str, period: Period) -> list[QuestionSample]:
    scope = and_(Question.bot == bot, Question.created_at >= period.start,
                 Question.created_at < period.end, Question.kind.in_(QUESTION_KINDS))
    thumbs: dict[int, int] = {}
    presses = await session.execute(
        select(QuestionEvent.question_id, QuestionEvent.kind)
        .join(Question, Question.id == QuestionEvent.question_id)
        .where(scope, QuestionEvent.kind.in_(tuple(THUMBS)),
               QuestionEvent.created_at < period.end)
        .order_by(QuestionEvent.created_at, QuestionEvent.id))
    for question_id, kind in presses:
        thumbs[question_id] = THUMBS[kind]
    rows = await session.execute(
        select(Question.id, Question.created_at, Question.outcome, Question.entry_shown)
        .where(scope))
    return [QuestionSample(at, outcome in BOT_ANSWERED and thumbs.get(qid, 0) >= 0,
                           shown is not None, thumbs.get(qid, 0))
            for qid, at, outcome, shown in rows]


_SAID_RESOLVED: Final = and_(TicketEvent.actor == "citizen", or_(
    and_(TicketEvent.action == "close", TicketEvent.detail == "resolved"),
    and_(TicketEvent.action == "feedback", TicketEvent.detail == "True")))


def _stars(detail: str | None) -> int | None:
    return int(detail) if detail is not None and detail.isdigit() else None


async def _tickets(session: AsyncSession, bot: str, period: Period, *,
                   schedule: WorkSchedule, as_of: datetime) -> list[TicketSample]:
    scope = and_(Ticket.bot == bot, Ticket.created_at >= period.start,
                 Ticket.created_at < period.end)
    asked = set((await session.execute(
        select(TicketEvent.ticket_id).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(scope, _SAID_RESOLVED, TicketEvent.created_at < as_of))).scalars())
    ratings: dict[int, str | None] = dict((await session.execute(  # the last one by then
        select(TicketEvent.ticket_id, TicketEvent.detail)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(scope, TicketEvent.action == "rating", TicketEvent.created_at < as_of)
        .order_by(TicketEvent.created_at, TicketEvent.id))).all())
    samples = []
    for ticket in (await session.execute(select(Ticket).where(scope))).scalars():
        answered = ticket.first_response_at
        if answered is not None and answered > as_of:
            answered = None
        settled = answered or (ticket.closed_at if ticket.closed_at and ticket.closed_at <= as_of
                               else None)
        hours = (None if answered is None
                 else schedule.working_seconds(ticket.created_at, answered) / _HOUR)
        samples.append(TicketSample(ticket.id, ticket.created_at, hours,
                                    (settled or as_of) > ticket.deadline_at,
                                    _stars(ratings.get(ticket.id)), ticket.id in asked))
    return samples


async def load_samples(sessions: async_sessionmaker[AsyncSession], bot: str, period: Period, *,
                       schedule: WorkSchedule, now: datetime) -> Samples:
    """The rows of ``bot`` that make up its figures for ``period``."""
    as_of = min(now, period.end)
    async with sessions.begin() as session:
        questions = await _questions(session, bot, period)
        tickets = await _tickets(session, bot, period, schedule=schedule, as_of=as_of)
        changes = await session.execute(
            select(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.state_after,
                   TicketEvent.action)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(Ticket.bot == bot, TicketEvent.created_at < as_of,
                   TicketEvent.state_after.is_not(None))
            .order_by(TicketEvent.created_at, TicketEvent.id))
        states, reopens = [], []
        for ticket_id, at, state, action in changes:
            states.append((ticket_id, at, state in _OPEN))
            if action == "reopen" and at >= period.start:
                reopens.append((ticket_id, at))
    return Samples(tuple(questions), tuple(tickets), tuple(states), tuple(reopens))


async def load_snapshot(sessions: async_sessionmaker[AsyncSession], bot: str, *,
                        schedule: WorkSchedule, now: datetime) -> Snapshot:
    """Open tickets of ``bot`` at ``now``: how many, how many late, the oldest."""
    async with sessions.begin() as session:
        rows = list((await session.execute(
            select(Ticket).where(Ticket.bot == bot, Ticket.state.in_(_OPEN))
            .order_by(Ticket.created_at, Ticket.id))).scalars())
    late = [t.first_response_at is None and t.deadline_at <= now for t in rows]
    oldest = tuple(
        OpenTicket(t.id, t.bot, t.created_at,
                   schedule.working_seconds(t.created_at, now) / _HOUR, over, t.owner_name)
        for t, over in zip(rows[:OLDEST_SHOWN], late, strict=False))
    return Snapshot(len(rows), sum(late), oldest)
