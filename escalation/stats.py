"""Figures of one bot over a period: questions, the bot's share, escalations, first-response
times, overdue tickets, the citizens' verdicts and ratings (``/stats`` in the operators' chat).

Read-only; one transaction. Times are working seconds of the bot's schedule.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import Question, Ticket
from escalation.states import OPEN_STATES
from escalation.worktime import WorkSchedule


@dataclass(frozen=True, slots=True)
class TicketStats:
    """Figures of one bot over a period; times are working seconds."""

    questions: int
    answered_by_bot: int
    escalations: int
    first_responses: int
    median_first_response: float | None
    p90_first_response: float | None
    overdue: int
    open_now: int
    ratings: dict[int, int]
    resolved_yes: int
    resolved_no: int

    @property
    def bot_share(self) -> float:
        return self.answered_by_bot / self.questions if self.questions else 0.0

    @property
    def mean_rating(self) -> float | None:
        count = sum(self.ratings.values())
        return sum(k * v for k, v in self.ratings.items()) / count if count else None



def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile (0–1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)



async def _counts(session: AsyncSession, bot: str, since: datetime) -> tuple[int, int, int]:
    """Questions asked, answered by the bot (both since ``since``), tickets open now."""
    questions = (
        await session.execute(
            select(func.count()).where(Question.bot == bot, Question.created_at >= since,
                                       Question.kind.in_(("faq", "browse", "redirect")))
        )
    ).scalar_one()
    answered_by_bot = (
        await session.execute(
            select(func.count()).where(
                Question.bot == bot, Question.created_at >= since,
                Question.outcome.in_(("answered", "helpful")),
            )
        )
    ).scalar_one()
    open_now = (
        await session.execute(
            select(func.count()).where(
                Ticket.bot == bot, Ticket.state.in_([s.value for s in OPEN_STATES])
            )
        )
    ).scalar_one()
    return questions, answered_by_bot, open_now


async def ticket_stats(sessions: async_sessionmaker[AsyncSession], bot: str, *,
                       since: datetime, now: datetime, schedule: WorkSchedule) -> TicketStats:
    """Questions, the bot's share, escalations, first-response times, overdue, ratings."""
    async with sessions.begin() as session:
        questions, answered_by_bot, open_now = await _counts(session, bot, since)
        tickets = list(
            (
                await session.execute(
                    select(Ticket).where(Ticket.bot == bot, Ticket.created_at >= since)
                )
            ).scalars()
        )
    times = [
        schedule.working_seconds(t.created_at, t.first_response_at)
        for t in tickets if t.first_response_at is not None
    ]
    overdue = sum(
        1 for t in tickets
        # Late: answered after the deadline, or still unanswered past it (a ticket closed
        # without an answer before its deadline was not late).
        if (t.first_response_at or t.closed_at or now) > t.deadline_at
    )
    ratings = Counter(t.rating for t in tickets if t.rating is not None)
    return TicketStats(
        questions=questions,
        answered_by_bot=answered_by_bot,
        escalations=len(tickets),
        first_responses=len(times),
        median_first_response=percentile(times, 0.5),
        p90_first_response=percentile(times, 0.9),
        overdue=overdue,
        open_now=open_now,
        ratings=dict(sorted(ratings.items())),
        resolved_yes=sum(1 for t in tickets if t.resolved is True),
        resolved_no=sum(1 for t in tickets if t.resolved is False),
    )
