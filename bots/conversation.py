"""What the bot does with a citizen's message or button press, independent of Telegram.

Every incoming question is recorded with its outcome; handlers only turn the returned
:class:`Outcome` into messages and keyboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bots.smalltalk import SmallTalk, SmallTalkKind
from bots.topic import Suite, Topic
from escalation.records import Records
from escalation.tickets import Tickets, TicketView
from faq import FaqEntry

MAX_CLARIFY_OPTIONS = 3


@dataclass(frozen=True)
class Citizen:
    tg_user_id: int
    chat_id: int
    display_name: str | None = None
    username: str | None = None


class OutcomeKind(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"
    REDIRECT = "redirect"
    GREETING = "greeting"
    THANKS = "thanks"
    FAREWELL = "farewell"
    ABUSE = "abuse"
    EMPTY = "empty"
    TICKET = "ticket"  # handed to operators: a new ticket, or joined the active one
    FOLLOW_UP = "follow_up"  # the citizen wrote again while their ticket is active
    BANNED = "banned"  # would be escalated, but the citizen is banned


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    question_id: int
    entry: FaqEntry | None = None
    options: list[FaqEntry] = field(default_factory=list)
    redirect_to: Topic | None = None
    ticket: TicketView | None = None
    created: bool = False


_SMALLTALK = {
    SmallTalkKind.GREETING: OutcomeKind.GREETING,
    SmallTalkKind.THANKS: OutcomeKind.THANKS,
    SmallTalkKind.FAREWELL: OutcomeKind.FAREWELL,
    SmallTalkKind.ABUSE: OutcomeKind.ABUSE,
}


class Conversation:
    def __init__(self, suite: Suite, records: Records, smalltalk: SmallTalk,
                 tickets: Tickets | None = None) -> None:
        self.suite = suite
        self.records = records
        self.smalltalk = smalltalk
        self.tickets = tickets

    async def active_ticket(self, topic: Topic, citizen: Citizen) -> TicketView | None:
        """The citizen's ticket that is not closed, when the bot has a queue."""
        if self.tickets is None or not self.has_queue(topic):
            return None
        return await self.tickets.active_of(topic.name, citizen.tg_user_id)

    def has_queue(self, topic: Topic) -> bool:
        """Whether questions of ``topic`` can be handed to operators."""
        return self.tickets is not None and topic.operators_chat_id is not None

    async def escalate(self, topic: Topic, citizen: Citizen, question_id: int, text: str, *,
                       reason: str, candidates: list[tuple[str, float]] | None = None,
                       bot_answer_entry: str | None = None,
                       media_message_id: int | None = None) -> Outcome:
        """Hand a recorded question to the operators (a ticket), when the bot has a queue."""
        if self.tickets is None or not self.has_queue(topic):
            return Outcome(OutcomeKind.ESCALATE, question_id)
        if await self.tickets.is_banned(topic.name, citizen.tg_user_id):
            return Outcome(OutcomeKind.BANNED, question_id)
        ticket, created = await self.tickets.open(
            bot=topic.name, tg_user_id=citizen.tg_user_id, chat_id=citizen.chat_id, text=text,
            reason=reason, question_id=question_id, candidates=candidates or [],
            bot_answer_entry=bot_answer_entry, media_message_id=media_message_id,
        )
        if not created:
            ticket = await self.tickets.follow_up(ticket.id, text)
        return Outcome(OutcomeKind.TICKET, question_id, ticket=ticket, created=created)

    async def _record(self, topic: Topic, citizen: Citizen, text: str, *, message_id: int | None,
                      source: str, kind: str, **outcome: object) -> int:
        return await self.records.record_question(
            bot=topic.name,
            tg_user_id=citizen.tg_user_id,
            display_name=citizen.display_name,
            username=citizen.username,
            chat_id=citizen.chat_id,
            tg_message_id=message_id,
            text=text,
            source=source,
            kind=kind,
            **outcome,  # type: ignore[arg-type]
        )

    async def ask(self, topic: Topic, citizen: Citizen, text: str, *,
                  message_id: int | None, source: str = "text") -> Outcome:
        """Decide how to answer a free-text question and record it."""
        text = text.strip()
        if not text:
            qid = await self._record(topic, citizen, text, message_id=message_id, source=source,
                                     kind="empty")
            return Outcome(OutcomeKind.EMPTY, qid)
        small = self.smalltalk.classify(text)
        if small is SmallTalkKind.PERSON and self.has_queue(topic):
            qid = await self._record(topic, citizen, text, message_id=message_id, source=source,
                                     kind="person", outcome="escalated")
            return await self.escalate(topic, citizen, qid, text, reason="ask_person")
        if small is not None and small is not SmallTalkKind.PERSON:
            kind = "abuse" if small is SmallTalkKind.ABUSE else "smalltalk"
            qid = await self._record(topic, citizen, text, message_id=message_id, source=source,
                                     kind=kind, outcome=small.value)
            return Outcome(_SMALLTALK[small], qid)
        if self.tickets is not None and self.has_queue(topic):
            active = await self.tickets.active_of(topic.name, citizen.tg_user_id)
            if active is not None:
                qid = await self._record(topic, citizen, text, message_id=message_id,
                                         source=source, kind="follow_up",
                                         outcome=f"ticket:{active.id}")
                ticket = await self.tickets.follow_up(active.id, text)
                return Outcome(OutcomeKind.FOLLOW_UP, qid, ticket=ticket)

        loaded = topic.faq.current
        result = loaded.matcher.match(text)
        candidates = [(c.entry_id, c.score) for c in result.candidates]
        if result.decision == "escalate":
            other = self._better_topic(topic, text)
            if other is not None:
                qid = await self._record(
                    topic, citizen, text, message_id=message_id, source=source,
                    kind="redirect", decision=result.decision, score=result.score,
                    candidates=candidates, outcome=f"redirected:{other.name}",
                )
                return Outcome(OutcomeKind.REDIRECT, qid, redirect_to=other)
        outcome = {"answer": "answered", "clarify": None, "escalate": "escalated"}
        qid = await self._record(
            topic, citizen, text, message_id=message_id, source=source, kind="faq",
            decision=result.decision, entry_id=result.entry_id, score=result.score,
            candidates=candidates, outcome=outcome[result.decision],
        )
        if result.decision == "escalate":
            return await self.escalate(
                topic, citizen, qid, text, reason="escalated", candidates=candidates,
                media_message_id=message_id if source == "caption" else None)
        if result.decision == "answer" and result.entry_id in loaded.entries:
            return Outcome(OutcomeKind.ANSWER, qid, entry=loaded.entries[result.entry_id])
        if result.decision == "clarify":
            options = [loaded.entries[c.entry_id] for c in result.candidates
                       if c.entry_id in loaded.entries][:MAX_CLARIFY_OPTIONS]
            return Outcome(OutcomeKind.CLARIFY, qid, options=options)
        return Outcome(OutcomeKind.ESCALATE, qid)

    def _better_topic(self, topic: Topic, text: str) -> Topic | None:
        """Another running bot whose FAQ answers ``text`` confidently."""
        for other in self.suite.others(topic):
            if other.username and other.faq.current.matcher.match(text).decision == "answer":
                return other
        return None

    async def record_unanswerable(self, topic: Topic, citizen: Citizen, text: str, *,
                                  message_id: int | None, kind: str) -> int:
        """Keep a message the bot will not answer now (media, flood)."""
        return await self._record(topic, citizen, text, message_id=message_id, source=kind,
                                  kind=kind)

    async def _own_question(self, topic: Topic, citizen: Citizen, question_id: int) -> bool:
        view = await self.records.get_question(question_id)
        return view is not None and view.bot == topic.name and (
            view.tg_user_id == citizen.tg_user_id
        )

    async def pick(self, topic: Topic, citizen: Citizen, question_id: int,
                   entry_id: str) -> FaqEntry | None:
        """The citizen chose one of the clarify options; None if the button is stale."""
        entry = topic.faq.current.entries.get(entry_id)
        if entry is None or not await self._own_question(topic, citizen, question_id):
            return None
        await self.records.record_event(question_id=question_id, kind="clarify_pick",
                                        entry_id=entry_id, outcome="answered")
        return entry

    async def open_entry(self, topic: Topic, citizen: Citizen,
                         entry_id: str) -> tuple[int, FaqEntry] | None:
        """The citizen opened an entry while browsing; recorded like a question."""
        entry = topic.faq.current.entries.get(entry_id)
        if entry is None:
            return None
        qid = await self._record(topic, citizen, entry.question, message_id=None,
                                 source="button", kind="browse", entry_id=entry_id,
                                 outcome="answered")
        return qid, entry

    async def feedback(self, topic: Topic, citizen: Citizen, question_id: int,
                       helpful: bool) -> bool:
        if not await self._own_question(topic, citizen, question_id):
            return False
        kind, outcome = ("feedback_up", "helpful") if helpful else ("feedback_down",
                                                                   "not_helpful")
        return await self.records.record_event(question_id=question_id, kind=kind,
                                               outcome=outcome)

    async def ask_person(self, topic: Topic, citizen: Citizen,
                         question_id: int) -> Outcome | None:
        """The citizen wants a person to answer question ``question_id``; None if stale."""
        view = await self.records.get_question(question_id)
        if view is None or view.bot != topic.name or view.tg_user_id != citizen.tg_user_id:
            return None
        await self.records.record_event(question_id=question_id, kind="ask_person",
                                        outcome="escalated")
        reason = "not_helpful" if view.outcome == "not_helpful" else "ask_person"
        return await self.escalate(topic, citizen, question_id, view.text, reason=reason,
                                   candidates=list(view.candidates),
                                   bot_answer_entry=view.entry_shown)
