"""Everything a citizen reads, loaded from YAML so editors can change it without code.

``bots/texts.yaml`` holds the texts shared by every bot; ``bots/<name>/texts.yaml`` adds the
bot's own (its topic, greeting, example question) and may override any shared text.
"""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bots.yaml_files import problems, read_mapping


class TextsError(Exception):
    """A texts file is missing, broken or lacks a required text."""


#: The placeholders the bot fills in, per text; any other ``{name}`` is an editor's typo.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "category_title": "category",
        "escalate": "question_id",
        "ask_person": "question_id",
        "redirect": "topic username",
        "btn_open_bot": "username",
        "menu_topic": "example",
        "menu_category": "category",
        "offtopic_intro": "topic",
        "offtopic_recorded": "question_id",
        "offtopic_where": "where",
        "flood_reply": "seconds",
        "help": "example",
        "ticket_opened": "ticket hours",
        "ticket_opened_off_hours": "ticket hours opens",
        "follow_up": "ticket",
        "resolved_prompt": "ticket",
        "reopened_reply": "ticket",
        "my_line": "ticket date state question",
        "card": "emoji ticket topic name reason question bot_answer earlier created deadline "
                "hours state owner",
        "card_bot_answer": "entry feedback",
        "card_earlier": "earlier",
        "card_owner": "owner",
        "topic_title": "emoji ticket name",
        "btn_faq_answer": "entry",
        "op_delivered": "ticket",
        "op_undeliverable": "ticket reason",
        "op_taken": "ticket owner",
        "op_claimed": "ticket owner",
        "op_closed": "ticket owner",
        "op_ticket_closed": "ticket",
        "op_note_saved": "ticket",
        "op_faq_sent": "ticket entry owner",
        "op_to_faq_saved": "ticket",
        "op_overdue": "count lines",
        "op_overdue_digest": "count lines",
        "op_queue_title": "count",
        "op_queue_line": "ticket age state owner question",
        "op_stats": "days questions bot_share escalations open median p90 responses overdue "
                    "resolved_yes resolved_no ratings",
        "op_banned": "ticket reason",
        "op_already_banned": "ticket",
        "op_unbanned": "ticket",
        "op_not_banned": "ticket",
        "op_citizen_reopened": "ticket",
        "op_citizen_resolved": "ticket",
        "forget_done": "questions tickets closed",
        "forget_closed": "tickets",
        "op_citizen_forgot": "ticket",
        "op_relay_masked": "text",
        "op_relay_failed": "ticket reason",
        "op_health": "topic lines",
        "op_health_storage_failing": "since reason",
        "op_health_cards_blocked": "reason",
        "op_health_cards_elsewhere": "replica",
        "op_health_backlog": "updates oldest messages given_up",
        "follow_up_not_relayed": "ticket",
    }.items()
}


class BotTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    start: str
    example: str
    help: str
    btn_browse: str
    btn_ask_person: str
    btn_back: str
    btn_prev: str
    btn_next: str
    btn_other: str
    btn_helpful: str
    btn_not_helpful: str
    categories_title: str
    category_title: str
    no_categories: str
    helpful_prompt: str
    links_title: str
    clarify_prompt: str
    escalate: str
    ask_person: str
    ask_person_prompt: str
    feedback_thanks: str
    not_helpful: str
    redirect: str
    btn_open_bot: str  # the link button under ``redirect``
    # a bare topic word ("пособие"): the list of sections, or one section's questions
    menu_topic: str
    menu_category: str
    # an off-topic question escalated with a pointer to another service (bots/elsewhere.yaml):
    # intro, then the ticket text (or offtopic_recorded without operators), then where
    offtopic_intro: str
    offtopic_recorded: str
    offtopic_where: str
    greeting_reply: str
    thanks_reply: str
    farewell_reply: str
    acknowledge_reply: str  # "ок", "понятно"
    person_no_operators: str  # "позовите оператора" when the bot has no operators' chat
    abuse_reply: str
    media_reply: str
    empty_reply: str
    flood_reply: str
    stale_button: str
    # --- personal data ---
    pii_warning: str
    forget_confirm: str
    btn_forget_yes: str
    btn_forget_no: str
    forget_done: str
    forget_closed: str
    forget_nothing: str
    forget_cancelled: str
    # --- the operator queue, citizen side ---
    ticket_opened: str
    ticket_opened_off_hours: str
    follow_up: str
    banned_reply: str
    resolved_prompt: str
    btn_resolved_yes: str
    btn_resolved_no: str
    rate_prompt: str
    rated_thanks: str
    reopened_reply: str
    my_title: str
    my_line: str
    my_empty: str
    state_new: str
    state_in_work: str
    state_answered: str
    state_closed: str
    # --- the operator queue, operators' side ---
    card: str
    reason_escalated: str
    reason_ask_person: str
    reason_not_helpful: str
    feedback_not_helpful: str
    card_bot_answer: str
    card_earlier: str
    card_owner: str
    topic_title: str
    btn_claim: str
    btn_close: str
    btn_faq_answer: str
    btn_to_faq: str
    op_delivered: str
    op_undeliverable: str
    op_taken: str
    op_claimed: str
    op_closed: str
    op_ticket_closed: str
    op_not_a_ticket: str
    op_not_allowed: str
    op_anonymous: str
    op_note_saved: str
    op_faq_sent: str
    op_to_faq_saved: str
    op_overdue: str
    op_overdue_digest: str
    op_queue_title: str
    op_queue_line: str
    op_queue_empty: str
    op_stats: str
    op_ban_usage: str
    op_banned: str
    op_already_banned: str
    op_unbanned: str
    op_not_banned: str
    op_help: str
    op_citizen_reopened: str
    op_citizen_resolved: str
    op_citizen_forgot: str
    op_relay_masked: str
    op_relay_failed: str
    op_health: str
    op_health_storage_ok: str
    op_health_storage_failing: str
    op_health_cards_ok: str
    op_health_cards_elsewhere: str
    op_health_cards_nobody: str
    op_health_cards_blocked: str
    op_health_backlog: str
    follow_up_not_relayed: str
    op_attachment_withheld: str

    @model_validator(mode="after")
    def _placeholders_known(self) -> BotTexts:
        for name, value in self:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
            unknown = fields - PLACEHOLDERS.get(name, frozenset())
            if unknown:
                allowed = sorted(PLACEHOLDERS.get(name, ()))
                msg = (f"text '{name}' uses unknown placeholder(s) {sorted(unknown)}; "
                       f"it may use {allowed or 'none'}")
                raise ValueError(msg)
        return self


def load_texts(bot_dir: Path) -> BotTexts:
    """Texts of the bot in ``bot_dir``: shared defaults overridden by the bot's own file."""
    merged = read_mapping(bot_dir.parent / "texts.yaml", TextsError)
    own = bot_dir / "texts.yaml"
    if own.is_file():
        merged |= read_mapping(own, TextsError)
    try:
        return BotTexts.model_validate(merged)
    except ValidationError as error:
        msg = f"{own}: {problems(error, 'texts')}"
        raise TextsError(msg) from None
