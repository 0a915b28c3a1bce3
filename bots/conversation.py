"""What the bot does with a citizen's message or button press, independent of Telegram.

Every incoming question is recorded with its outcome; handlers only turn the returned
:class:`Outcome` into messages and keyboards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bots.elsewhere import Channel, Elsewhere
from bots.matching import MatchPool
from bots.menu_words import MenuWords
from bots.smalltalk import SmallTalk, SmallTalkKind
from bots.topic import Suite, Topic
from escalation.records import Records
from escalation.tickets import Tickets, TicketView
from faq import FaqEntry, Matcher, MatchResult
from faq.routing import route

MAX_CLARIFY_OPTIONS = 3
DIRECTORY = ""  # the directory of other services among the rivals (no bot has this name)


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
    ACKNOWLEDGE = "acknowledge"
    ABUSE = "abuse"
    EMPTY = "empty"
    TICKET = "ticket"  # handed to operators: a new ticket, or joined the active one
    FOLLOW_UP = "follow_up"  # the citizen wrote again while their ticket is active
    BANNED = "banned"  # would be escalated, but the citizen is banned
    MENU = "menu"  # a bare topic word: the FAQ's sections, or one section's questions
    NO_OPERATORS = "no_operators"  # asked for a person, but the bot has no operators' chat


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    question_id: int
    entry: FaqEntry | None = None
    options: list[FaqEntry] = field(default_factory=list)
    redirect_to: Topic | None = None
    ticket: TicketView | None = None
    created: bool = False
    elsewhere: Channel | None = None  # escalated off-topic: where such questions usually go
    category: str | None = None  # MENU: the section to open (None: the list of sections)


@dataclass(frozen=True)
class _Incoming:
    """A citizen's message being handled, recorded once with the outcome decided for it."""

    records: Records
    topic: Topic
    citizen: Citizen
    text: str
    message_id: int | None
    source: str

    @property
    def media_message_id(self) -> int | None:
        """A photo with a question in its caption goes to the operators as it is."""
        return self.message_id if self.source == "caption" else None

    async def record(self, *, kind: str, **outcome: object) -> int:
        return await self.records.record_question(
            bot=self.topic.name,
            tg_user_id=self.citizen.tg_user_id,
            display_name=self.citizen.display_name,
            username=self.citizen.username,
            chat_id=self.citizen.chat_id,
            tg_message_id=self.message_id,
            text=self.text,
            source=self.source,
            kind=kind,
            **outcome,  # type: ignore[arg-type]
        )


# What a matcher decision is recorded as, until the citizen's next step moves it on.
_RECORDED = {"answer": "answered", "clarify": None, "escalate": "escalated"}

_SMALLTALK = {
    SmallTalkKind.GREETING: OutcomeKind.GREETING,
    SmallTalkKind.THANKS: OutcomeKind.THANKS,
    SmallTalkKind.FAREWELL: OutcomeKind.FAREWELL,
    SmallTalkKind.ACKNOWLEDGE: OutcomeKind.ACKNOWLEDGE,
    SmallTalkKind.ABUSE: OutcomeKind.ABUSE,
}


class Conversation:
    """``pool`` runs the matching off the event loop; ``menus`` are the bots' bare topic
    words by bot name (:mod:`bots.menu_words`); ``elsewhere`` is the directory of other
    services for off-topic questions (:mod:`bots.elsewhere`)."""

    def __init__(self, suite: Suite, records: Records, smalltalk: SmallTalk,
                 tickets: Tickets | None = None, *, pool: MatchPool | None = None,
                 menus: Mapping[str, MenuWords] | None = None,
                 elsewhere: Elsewhere | None = None) -> None:
        self.suite = suite
        self.records = records
        self.smalltalk = smalltalk
        self.tickets = tickets
        self.pool = pool or MatchPool()
        self.menus = {name: menu.without(smalltalk.filler)
                      for name, menu in (menus or {}).items()}
        self.elsewhere = elsewhere

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
        if not created and ticket.question_id == question_id:
            created = True  # this very message opened it: the update is handled again
        elif not created:
            ticket = await self.tickets.follow_up(ticket.id, text)
        return Outcome(OutcomeKind.TICKET, question_id, ticket=ticket, created=created)

    async def _record(self, topic: Topic, citizen: Citizen, text: str, *, message_id: int | None,
                      source: str, kind: str, **outcome: object) -> int:
        incoming = _Incoming(self.records, topic, citizen, text, message_id, source)
        return await incoming.record(kind=kind, **outcome)

    async def ask(self, topic: Topic, citizen: Citizen, text: str, *,
                  message_id: int | None, source: str = "text") -> Outcome:
        """Decide how to answer a free-text question and record it."""
        text = text.strip()
        incoming = _Incoming(self.records, topic, citizen, text, message_id, source)
        record = incoming.record
        if not text:
            return Outcome(OutcomeKind.EMPTY, await record(kind="empty"))
        small = self.smalltalk.classify(text)
        if small is SmallTalkKind.PERSON:
            if not self.has_queue(topic):
                return Outcome(OutcomeKind.NO_OPERATORS,
                               await record(kind="person", outcome="no_operators"))
            qid = await record(kind="person", outcome="escalated")
            return await self.escalate(topic, citizen, qid, text, reason="ask_person")
        if small is not None:
            kind = "abuse" if small is SmallTalkKind.ABUSE else "smalltalk"
            return Outcome(_SMALLTALK[small], await record(kind=kind, outcome=small.value))
        if self.tickets is not None and self.has_queue(topic):
            active = await self.tickets.active_of(topic.name, citizen.tg_user_id)
            if active is not None:
                qid = await record(kind="follow_up", outcome=f"ticket:{active.id}")
                if qid == active.question_id:
                    # This very message opened the ticket before a crash cut its confirmation
                    # off: finish as the first attempt would have, not as a follow-up.
                    return Outcome(OutcomeKind.TICKET, qid, ticket=active, created=True)
                ticket = await self.tickets.follow_up(active.id, text)
                return Outcome(OutcomeKind.FOLLOW_UP, qid, ticket=ticket)
        content = self.smalltalk.content(text)
        menu = self.menus.get(topic.name)
        choice = menu.find(content) if menu is not None else None
        if choice is not None:
            return Outcome(OutcomeKind.MENU, await record(kind="menu", outcome="menu"),
                           category=choice.category)
        other = self._topic_word_of_other(topic, content)
        if other is not None:
            qid = await record(kind="redirect", outcome=f"redirected:{other.name}")
            return Outcome(OutcomeKind.REDIRECT, qid, redirect_to=other)
        return await self._match(incoming)

    async def _match(self, incoming: _Incoming) -> Outcome:
        topic, text = incoming.topic, incoming.text
        loaded = topic.faq.current
        result = await self.pool.match(loaded.matcher, text)
        candidates = [(c.entry_id, c.score) for c in result.candidates]
        found: dict[str, object] = {"decision": result.decision, "score": result.score,
                                    "candidates": candidates}
        routed = await self._route_elsewhere(incoming, loaded.matcher, result, found)
        if routed is not None:
            return routed
        qid = await incoming.record(kind="faq", entry_id=result.entry_id,
                                    outcome=_RECORDED[result.decision], **found)
        if result.decision == "escalate":
            return await self.escalate(
                topic, incoming.citizen, qid, text, reason="escalated", candidates=candidates,
                media_message_id=incoming.media_message_id)
        if result.decision == "answer" and result.entry_id in loaded.entries:
            return Outcome(OutcomeKind.ANSWER, qid, entry=loaded.entries[result.entry_id])
        if result.decision == "clarify":
            options = [loaded.entries[c.entry_id] for c in result.candidates
                       if c.entry_id in loaded.entries][:MAX_CLARIFY_OPTIONS]
            return Outcome(OutcomeKind.CLARIFY, qid, options=options)
        return Outcome(OutcomeKind.ESCALATE, qid)

    async def _route_elsewhere(self, incoming: _Incoming, matcher: Matcher, result: MatchResult,
                               found: dict[str, object]) -> Outcome | None:
        """The question fits another bot's FAQ or the directory of other services clearly
        better (:func:`faq.routing.route`): the pointer to that bot, or escalated with where
        such questions usually go; None when it stays here."""
        topic, text = incoming.topic, incoming.text
        rivals: dict[str, Matcher] = {other.name: other.faq.current.matcher
                                      for other in self.suite.others(topic) if other.username}
        if self.elsewhere is not None:
            rivals[DIRECTORY] = self.elsewhere.matcher
        if not rivals:
            return None
        scored = await asyncio.gather(*(self.pool.match(m, text) for m in rivals.values()))
        results = dict(zip(rivals, scored, strict=True))
        winner = route(result, results, matcher.hybrid)
        if winner is None:
            return None
        if winner != DIRECTORY:
            other = self.suite.topics[winner]
            qid = await incoming.record(kind="redirect", outcome=f"redirected:{other.name}",
                                        **found)
            return Outcome(OutcomeKind.REDIRECT, qid, redirect_to=other)
        assert self.elsewhere is not None  # DIRECTORY is a rival only when there is one
        channel = self.elsewhere.channels.get(results[DIRECTORY].candidates[0].entry_id)
        qid = await incoming.record(kind="offtopic", outcome="escalated", **found)
        # No FAQ entries on the operators' card: none is relevant to an off-topic question.
        outcome = await self.escalate(topic, incoming.citizen, qid, text, reason="escalated",
                                      media_message_id=incoming.media_message_id)
        return replace(outcome, elsewhere=channel)

    def _topic_word_of_other(self, topic: Topic, content: tuple[str, ...]) -> Topic | None:
        """Another running bot whose topic word ("прививка") is the whole message."""
        for other in self.suite.others(topic):
            menu = self.menus.get(other.name)
            choice = menu.find(content) if menu is not None else None
            if other.username and choice is not None and choice.category is None:
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
