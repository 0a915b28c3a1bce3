"""The citizen's side of a topic bot: /start, browsing, questions and buttons.

Dependencies arrive by name from the dispatcher: ``topic`` (the bot's :class:`Topic`, set by
middleware), ``conversation`` and ``delivery``.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bots.conversation import Citizen, Conversation, Outcome, OutcomeKind
from bots.desk import Desk, state_name
from bots.forget import confirm_markup, done_text, forget_citizen
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.privacy import has_personal_numbers
from escalation.tickets import Tickets, TicketView
from handlers import keyboards
from handlers.callbacks import (
    Category,
    Feedback,
    Forget,
    Menu,
    MenuAction,
    Person,
    Pick,
    Rate,
    Resolved,
    Show,
)
from handlers.render import answer_text, shorten, with_elsewhere

OPERATOR_COMMANDS = ("queue", "stats", "ban", "unban")


def citizen_of(event: Message | CallbackQuery) -> Citizen:
    user = event.from_user
    assert user is not None  # private chats always have a sender
    chat = event.chat if isinstance(event, Message) else event.message.chat  # type: ignore[union-attr]
    return Citizen(tg_user_id=user.id, chat_id=chat.id, display_name=user.full_name,
                   username=user.username)


def ticket_opened_text(topic: Topic, desk: Desk, ticket: TicketView) -> str:
    policy = desk.tickets.policy(topic.name)
    hours = f"{policy.first_response.total_seconds() / 3600:g}"
    now = desk.tickets.now()
    if policy.schedule.is_working_time(now):
        return topic.texts.ticket_opened.format(ticket=ticket.id, hours=hours)
    opens = desk.local(topic, policy.schedule.next_opening(now))
    return topic.texts.ticket_opened_off_hours.format(ticket=ticket.id, hours=hours,
                                                      opens=opens)


async def render(outcome: Outcome, topic: Topic, bot: Bot, chat_id: int,
                 delivery: Delivery, desk: Desk, *, message_id: int | None = None,
                 citizen_text: str | None = None, media: bool = False) -> None:
    """Send what the citizen should see for ``outcome`` (and tell operators, for tickets).

    ``citizen_text`` (the message's text or caption) and ``media`` let a follow-up with
    personal numbers reach operators masked (see :meth:`Desk.relay_in`); the citizen is
    warned not to send them.
    """
    warn = citizen_text is not None and has_personal_numbers(citizen_text)
    texts = topic.texts
    markup = None
    match outcome.kind:
        case OutcomeKind.TICKET | OutcomeKind.FOLLOW_UP:
            ticket = outcome.ticket
            assert ticket is not None
            if outcome.created:
                text = ticket_opened_text(topic, desk, ticket)
                desk.wake(topic)
            else:
                if message_id is not None:
                    await desk.relay_in(bot, topic, ticket, message_id=message_id,
                                        text=citizen_text, media=media)
                await desk.refresh(bot, topic, ticket)
                text = texts.follow_up.format(ticket=ticket.id)
        case OutcomeKind.BANNED:
            text = texts.banned_reply
        case OutcomeKind.ANSWER:
            assert outcome.entry is not None
            text = answer_text(texts, outcome.entry)
            markup = keyboards.feedback(texts, outcome.question_id)
        case OutcomeKind.CLARIFY:
            text = texts.clarify_prompt
            markup = keyboards.clarify(texts, outcome.question_id, outcome.options)
        case OutcomeKind.REDIRECT:
            assert outcome.redirect_to is not None
            username = outcome.redirect_to.username or ""
            text = texts.redirect.format(topic=outcome.redirect_to.texts.topic,
                                         username=username)
            markup = keyboards.open_bot(texts, username)
        case OutcomeKind.MENU:
            text, markup = menu_view(topic, outcome.category)
        case OutcomeKind.NO_OPERATORS:
            text = texts.person_no_operators
        case OutcomeKind.ESCALATE:
            text = texts.escalate.format(question_id=outcome.question_id)
        case OutcomeKind.GREETING:
            text = texts.greeting_reply
        case OutcomeKind.THANKS:
            text = texts.thanks_reply
        case OutcomeKind.FAREWELL:
            text = texts.farewell_reply
        case OutcomeKind.ACKNOWLEDGE:
            text = texts.acknowledge_reply
        case OutcomeKind.ABUSE:
            text = texts.abuse_reply
        case OutcomeKind.EMPTY:
            text = texts.empty_reply
    text = with_elsewhere(texts, outcome, text)
    await delivery.send_text(bot, chat_id, text, reply_markup=markup)
    if warn:
        await delivery.send_text(bot, chat_id, texts.pii_warning)


# Filters are coroutines: aiogram runs a plain function or a magic filter (``F.text``)
# through ``asyncio.to_thread``, a thread round trip per filter and message.


async def private_chat(message: Message) -> bool:
    return message.chat.type == "private"


async def private_button(query: CallbackQuery) -> bool:
    return query.message is not None and query.message.chat.type == "private"


async def has_text(message: Message) -> bool:
    """Text, or a caption (a photo with a question under it)."""
    return bool(message.text or message.caption)


async def has_plain_text(message: Message) -> bool:
    return bool(message.text)


def citizen_router() -> Router:
    router = Router(name="citizen")
    router.message.filter(private_chat)
    router.callback_query.filter(private_button)

    @router.message(CommandStart())
    async def start(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        await delivery.send_text(bot, message.chat.id, topic.texts.start,
                                 reply_markup=keyboards.main_menu(topic.texts))

    @router.message(Command("my"))
    async def my(message: Message, bot: Bot, topic: Topic, tickets: Tickets,
                 delivery: Delivery, desk: Desk) -> None:
        assert message.from_user is not None
        mine = await tickets.of_citizen(topic.name, message.from_user.id)
        if not mine:
            await delivery.send_text(bot, message.chat.id, topic.texts.my_empty)
            return
        lines = [topic.texts.my_title] + [
            topic.texts.my_line.format(ticket=t.id, date=desk.local(topic, t.created_at),
                                       state=state_name(topic, t.state),
                                       question=shorten(t.text, 80))
            for t in mine
        ]
        await delivery.send_text(bot, message.chat.id, "\n".join(lines))

    @router.message(Command(*OPERATOR_COMMANDS))
    async def operator_command(message: Message, bot: Bot, topic: Topic,
                               delivery: Delivery) -> None:
        await delivery.send_text(bot, message.chat.id, topic.texts.op_not_allowed)

    @router.message(Command("help"))
    async def help_(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        text = topic.texts.help.format(example=topic.texts.example)
        await delivery.send_text(bot, message.chat.id, text)

    @router.message(Command("forget"))
    async def forget(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        await delivery.send_text(bot, message.chat.id, topic.texts.forget_confirm,
                                 reply_markup=confirm_markup(topic.texts))

    @router.message(has_text)
    async def question(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                       delivery: Delivery, desk: Desk) -> None:
        text = message.text if message.text is not None else message.caption or ""
        source = "text" if message.text is not None else "caption"
        outcome = await conversation.ask(topic, citizen_of(message), text,
                                         message_id=message.message_id, source=source)
        await render(outcome, topic, bot, message.chat.id, delivery, desk,
                     message_id=message.message_id, citizen_text=text,
                     media=message.text is None)

    @router.edited_message(has_plain_text)
    async def edited(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                     delivery: Delivery, desk: Desk) -> None:
        outcome = await conversation.ask(topic, citizen_of(message), message.text or "",
                                         message_id=message.message_id, source="edited")
        await render(outcome, topic, bot, message.chat.id, delivery, desk,
                     message_id=message.message_id, citizen_text=message.text or "")

    # Catch-all for private messages: stickers, voice, photos without caption, locations...
    @router.message()
    async def media(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                    delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(message)
        ticket = await conversation.active_ticket(topic, citizen)
        if ticket is not None:
            # A photo or a document for the specialist working on the citizen's question.
            await conversation.record_unanswerable(
                topic, citizen, f"[{message.content_type}]", message_id=message.message_id,
                kind="follow_up")
            outcome = Outcome(OutcomeKind.FOLLOW_UP, 0, ticket=ticket)
            await render(outcome, topic, bot, message.chat.id, delivery, desk,
                         message_id=message.message_id)
            return
        await conversation.record_unanswerable(
            topic, citizen_of(message), f"[{message.content_type}]",
            message_id=message.message_id, kind="media")
        await delivery.send_text(bot, message.chat.id, topic.texts.media_reply)

    @router.callback_query(Menu.filter())
    async def menu(query: CallbackQuery, callback_data: Menu, bot: Bot, topic: Topic,
                   delivery: Delivery) -> None:
        await delivery.answer_callback(bot, query.id)
        chat_id = citizen_of(query).chat_id
        if callback_data.action is MenuAction.BROWSE:
            await show_categories(bot, chat_id, None, topic, delivery, page=0)
        else:
            await delivery.send_text(bot, chat_id, topic.texts.ask_person_prompt)

    @router.callback_query(Category.filter())
    async def category(query: CallbackQuery, callback_data: Category, bot: Bot, topic: Topic,
                       delivery: Delivery) -> None:
        await delivery.answer_callback(bot, query.id)
        message_id = query.message.message_id if query.message else None
        chat_id = citizen_of(query).chat_id
        loaded = topic.faq.current
        if callback_data.index < 0 or callback_data.index >= len(loaded.categories):
            await show_categories(bot, chat_id, message_id, topic, delivery,
                                  page=callback_data.page)
            return
        name = loaded.categories[callback_data.index]
        markup = keyboards.category(topic.texts, loaded.in_category(name), callback_data.index,
                                    callback_data.page)
        await edit_or_send(bot, chat_id, message_id, topic.texts.category_title.format(
            category=name), markup, delivery)

    @router.callback_query(Show.filter())
    async def show(query: CallbackQuery, callback_data: Show, bot: Bot, topic: Topic,
                   conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        opened = await conversation.open_entry(topic, citizen, callback_data.entry)
        if opened is None:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        await render(Outcome(OutcomeKind.ANSWER, opened[0], entry=opened[1]), topic, bot,
                     citizen.chat_id, delivery, desk)

    @router.callback_query(Pick.filter())
    async def pick(query: CallbackQuery, callback_data: Pick, bot: Bot, topic: Topic,
                   conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        entry = await conversation.pick(topic, citizen, callback_data.q, callback_data.entry)
        if entry is None:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        await render(Outcome(OutcomeKind.ANSWER, callback_data.q, entry=entry), topic, bot,
                     citizen.chat_id, delivery, desk)

    @router.callback_query(Feedback.filter())
    async def feedback(query: CallbackQuery, callback_data: Feedback, bot: Bot, topic: Topic,
                       conversation: Conversation, delivery: Delivery) -> None:
        citizen = citizen_of(query)
        if not await conversation.feedback(topic, citizen, callback_data.q,
                                           callback_data.helpful):
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        if callback_data.helpful:
            await delivery.answer_callback(bot, query.id, topic.texts.feedback_thanks)
            return
        await delivery.answer_callback(bot, query.id)
        await delivery.send_text(bot, citizen.chat_id, topic.texts.not_helpful,
                                 reply_markup=keyboards.ask_person(topic.texts, callback_data.q))

    @router.callback_query(Person.filter())
    async def person(query: CallbackQuery, callback_data: Person, bot: Bot, topic: Topic,
                     conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        outcome = await conversation.ask_person(topic, citizen, callback_data.q)
        if outcome is None:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        if outcome.kind is OutcomeKind.ESCALATE:
            await delivery.send_text(bot, citizen.chat_id,
                                     topic.texts.ask_person.format(question_id=callback_data.q))
            return
        await render(outcome, topic, bot, citizen.chat_id, delivery, desk)

    @router.callback_query(Resolved.filter())
    async def resolved(query: CallbackQuery, callback_data: Resolved, bot: Bot, topic: Topic,
                       tickets: Tickets, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        ticket = await tickets.citizen_feedback(callback_data.t, citizen.tg_user_id,
                                                resolved=callback_data.yes)
        if ticket is None or ticket.bot != topic.name:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        message_id = query.message.message_id if query.message else None
        if callback_data.yes:
            text, markup = topic.texts.rate_prompt, desk.rating_markup(ticket.id)
            notice = topic.texts.op_citizen_resolved.format(ticket=ticket.id)
        else:
            text, markup = topic.texts.reopened_reply.format(ticket=ticket.id), None
            notice = topic.texts.op_citizen_reopened.format(ticket=ticket.id)
        if message_id is not None:
            await delivery.edit_text(bot, citizen.chat_id, message_id, text,
                                     reply_markup=markup)
        else:
            await delivery.send_text(bot, citizen.chat_id, text, reply_markup=markup)
        if ticket.operators_chat_id is not None:
            await desk.notice(bot, ticket, ticket.operators_chat_id, notice,
                              reply_to=ticket.card_message_id, thread_id=ticket.thread_id)
        await desk.refresh(bot, topic, ticket)

    @router.callback_query(Rate.filter(F.stars.in_({1, 2, 3, 4, 5})))
    async def rate(query: CallbackQuery, callback_data: Rate, bot: Bot, topic: Topic,
                   tickets: Tickets, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        ticket = await tickets.citizen_feedback(callback_data.t, citizen.tg_user_id,
                                                rating=callback_data.stars)
        if ticket is None or ticket.bot != topic.name:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id, topic.texts.rated_thanks)
        if query.message is not None:
            await delivery.edit_text(bot, citizen.chat_id, query.message.message_id,
                                     topic.texts.rated_thanks)
        await desk.refresh(bot, topic, ticket)

    @router.callback_query(Forget.filter())
    async def forget_confirmed(query: CallbackQuery, callback_data: Forget, bot: Bot,
                               topic: Topic, delivery: Delivery, desk: Desk) -> None:
        citizen = citizen_of(query)
        await delivery.answer_callback(bot, query.id)
        text = topic.texts.forget_cancelled
        if callback_data.yes:
            forgotten = await forget_citizen(bot, topic, desk, citizen.tg_user_id)
            text = done_text(topic.texts, forgotten)
        if query.message is not None:
            await delivery.edit_text(bot, citizen.chat_id, query.message.message_id, text)
        else:
            await delivery.send_text(bot, citizen.chat_id, text)

    # Catch-all for buttons: forged, foreign or outdated callback data.
    @router.callback_query()
    async def stale(query: CallbackQuery, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)

    return router


async def show_categories(bot: Bot, chat_id: int, message_id: int | None, topic: Topic,
                          delivery: Delivery, *, page: int) -> None:
    loaded = topic.faq.current
    if not loaded.categories:
        await delivery.send_text(bot, chat_id, topic.texts.no_categories)
        return
    markup = keyboards.categories(topic.texts, loaded, page)
    await edit_or_send(bot, chat_id, message_id, topic.texts.categories_title, markup, delivery)


def menu_view(topic: Topic, category: str | None) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a bare topic word opens: the questions of ``category``, else the sections."""
    loaded, texts = topic.faq.current, topic.texts
    if not loaded.categories:
        return texts.no_categories, None
    if category in loaded.categories:
        index = loaded.categories.index(category)
        return (texts.menu_category.format(category=category),
                keyboards.category(texts, loaded.in_category(category), index, 0))
    return (texts.menu_topic.format(example=texts.example),
            keyboards.categories(texts, loaded, 0))


async def edit_or_send(bot: Bot, chat_id: int, message_id: int | None, text: str,
                       markup: InlineKeyboardMarkup, delivery: Delivery) -> None:
    if message_id is None:
        await delivery.send_text(bot, chat_id, text, reply_markup=markup)
    else:
        await delivery.edit_text(bot, chat_id, message_id, text, reply_markup=markup)
