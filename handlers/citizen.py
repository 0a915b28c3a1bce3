"""The citizen's side of a topic bot: /start, browsing, questions and buttons.

Dependencies arrive by name from the dispatcher: ``topic`` (the bot's :class:`Topic`, set by
middleware), ``conversation`` and ``delivery``.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bots.conversation import Citizen, Conversation, Outcome, OutcomeKind
from bots.topic import Topic
from escalation.delivery import Delivery
from handlers import keyboards
from handlers.callbacks import Category, Feedback, Menu, MenuAction, Person, Pick, Show
from handlers.render import answer_text


def citizen_of(event: Message | CallbackQuery) -> Citizen:
    user = event.from_user
    assert user is not None  # private chats always have a sender
    chat = event.chat if isinstance(event, Message) else event.message.chat  # type: ignore[union-attr]
    return Citizen(tg_user_id=user.id, chat_id=chat.id, display_name=user.full_name,
                   username=user.username)


async def render(outcome: Outcome, topic: Topic, bot: Bot, chat_id: int,
                 delivery: Delivery) -> None:
    """Send what the citizen should see for ``outcome``."""
    texts = topic.texts
    markup = None
    match outcome.kind:
        case OutcomeKind.ANSWER:
            assert outcome.entry is not None
            text = answer_text(texts, outcome.entry)
            markup = keyboards.feedback(texts, outcome.question_id)
        case OutcomeKind.CLARIFY:
            text = texts.clarify_prompt
            markup = keyboards.clarify(texts, outcome.question_id, outcome.options)
        case OutcomeKind.REDIRECT:
            assert outcome.redirect_to is not None
            text = texts.redirect.format(topic=outcome.redirect_to.texts.topic,
                                         username=outcome.redirect_to.username)
        case OutcomeKind.ESCALATE:
            text = texts.escalate.format(question_id=outcome.question_id)
        case OutcomeKind.GREETING:
            text = texts.greeting_reply
        case OutcomeKind.THANKS:
            text = texts.thanks_reply
        case OutcomeKind.FAREWELL:
            text = texts.farewell_reply
        case OutcomeKind.ABUSE:
            text = texts.abuse_reply
        case OutcomeKind.EMPTY:
            text = texts.empty_reply
    await delivery.send_text(bot, chat_id, text, reply_markup=markup)


def citizen_router() -> Router:
    router = Router(name="citizen")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")

    @router.message(CommandStart())
    async def start(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        await delivery.send_text(bot, message.chat.id, topic.texts.start,
                                 reply_markup=keyboards.main_menu(topic.texts))

    @router.message(Command("help"))
    async def help_(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        text = topic.texts.help.format(example=topic.texts.example)
        await delivery.send_text(bot, message.chat.id, text)

    @router.message(F.text | F.caption)
    async def question(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                       delivery: Delivery) -> None:
        text = message.text if message.text is not None else message.caption or ""
        source = "text" if message.text is not None else "caption"
        outcome = await conversation.ask(topic, citizen_of(message), text,
                                         message_id=message.message_id, source=source)
        await render(outcome, topic, bot, message.chat.id, delivery)

    @router.edited_message(F.text)
    async def edited(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                     delivery: Delivery) -> None:
        outcome = await conversation.ask(topic, citizen_of(message), message.text or "",
                                         message_id=message.message_id, source="edited")
        await render(outcome, topic, bot, message.chat.id, delivery)

    # Catch-all for private messages: stickers, voice, photos without caption, locations...
    @router.message()
    async def media(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                    delivery: Delivery) -> None:
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
                   conversation: Conversation, delivery: Delivery) -> None:
        citizen = citizen_of(query)
        opened = await conversation.open_entry(topic, citizen, callback_data.entry)
        if opened is None:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        await render(Outcome(OutcomeKind.ANSWER, opened[0], entry=opened[1]), topic, bot,
                     citizen.chat_id, delivery)

    @router.callback_query(Pick.filter())
    async def pick(query: CallbackQuery, callback_data: Pick, bot: Bot, topic: Topic,
                   conversation: Conversation, delivery: Delivery) -> None:
        citizen = citizen_of(query)
        entry = await conversation.pick(topic, citizen, callback_data.q, callback_data.entry)
        if entry is None:
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        await render(Outcome(OutcomeKind.ANSWER, callback_data.q, entry=entry), topic, bot,
                     citizen.chat_id, delivery)

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
                     conversation: Conversation, delivery: Delivery) -> None:
        citizen = citizen_of(query)
        if not await conversation.ask_person(topic, citizen, callback_data.q):
            await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)
            return
        await delivery.answer_callback(bot, query.id)
        await delivery.send_text(bot, citizen.chat_id,
                                 topic.texts.ask_person.format(question_id=callback_data.q))

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


async def edit_or_send(bot: Bot, chat_id: int, message_id: int | None, text: str,
                       markup: InlineKeyboardMarkup, delivery: Delivery) -> None:
    if message_id is None:
        await delivery.send_text(bot, chat_id, text, reply_markup=markup)
    else:
        await delivery.edit_text(bot, chat_id, message_id, text, reply_markup=markup)
