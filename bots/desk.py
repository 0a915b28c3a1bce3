"""The operators' desk: everything a bot does in, and from, its operators' chat.

Three parts, built together and sharing one :class:`~bots.operators_chat.OperatorsChat`:

- :attr:`Desk.chat` (:mod:`bots.operators_chat`): cards, forum topics, relayed messages and
  notices, each paired with its ticket;
- :attr:`Desk.worker` (:mod:`bots.card_worker`): posts missing cards and watches the queue
  (quiet tickets, overdue ones), one task per bot;
- :attr:`Desk.answers` (:mod:`bots.answers`): operators' answers, notes, FAQ answers and FAQ
  candidates.

What they show is :mod:`bots.cards`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.answers import Answers
from bots.candidates import CandidateStore
from bots.card_worker import CardWorker
from bots.operators_chat import OperatorsChat
from escalation.delivery import Delivery
from escalation.tickets import Tickets


@dataclass
class Desk:
    tickets: Tickets
    delivery: Delivery
    candidates: CandidateStore
    chat: OperatorsChat = field(init=False)
    worker: CardWorker = field(init=False)
    answers: Answers = field(init=False)

    def __post_init__(self) -> None:
        self.chat = OperatorsChat(self.tickets, self.delivery)
        self.worker = CardWorker(self.chat)
        self.answers = Answers(self.chat, self.candidates)
