"""The citizen's buttons under the menu and under answers: sections, entries, the clarify
options, "helpful?" and "ask a person"."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery

from bots.conversation import Conversation, Outcome, OutcomeKind
from bots.desk import Desk
from bots.topic import Topic
from escalation.delivery import Delivery
from faq import FaqEntry
from handlers import keyboards
from handlers.callbacks import Category, Feedback, Menu, MenuAction, Person, Pick, Show
from handlers.citizen.filters import citizen_of
from handlers.citizen.replies import render, show_categories
from handlers.common import edit_or_send, stale_button


async def menu(query: CallbackQuery, callback_data: Menu, bot: Bot, topic: Topic,
               delivery: Delivery) -> None:
    await delivery.answer_callback(bot, query.id)
    chat_id = citizen_of(query).chat_id
    if callback_data.action is MenuAction.BROWSE:
        await show_categories(bot, chat_id, None, topic, delivery, page=0)
    else:
        await delivery.send_text(bot, chat_id, topic.texts.ask_person_prompt)


async def category(query: CallbackQuery, callback_data: Category, bot: Bot, topic: Topic,
                   delivery: Delivery) -> None:
    """A section's questions (in place of the list); index -1 or unknown: the sections."""
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
    await edit_or_send(bot, chat_id, message_id,
                       topic.texts.category_title.format(category=name), markup, delivery)


async def _answer(query: CallbackQuery, bot: Bot, topic: Topic, delivery: Delivery,
                  desk: Desk, chosen: tuple[int, FaqEntry] | None) -> None:
    """The entry the citizen ``chosen`` (question id, entry), or "stale" when it is gone."""
    if chosen is None:
        await stale_button(query, bot, topic, delivery)
        return
    await delivery.answer_callback(bot, query.id)
    question_id, entry = chosen
    await render(Outcome(OutcomeKind.ANSWER, question_id, entry=entry), topic, bot,
                 citizen_of(query).chat_id, delivery, desk)


async def show(query: CallbackQuery, callback_data: Show, bot: Bot, topic: Topic,
               conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
    opened = await conversation.open_entry(topic, citizen_of(query), callback_data.entry)
    await _answer(query, bot, topic, delivery, desk, opened)


async def pick(query: CallbackQuery, callback_data: Pick, bot: Bot, topic: Topic,
               conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
    entry = await conversation.pick(topic, citizen_of(query), callback_data.q,
                                    callback_data.entry)
    await _answer(query, bot, topic, delivery, desk,
                  None if entry is None else (callback_data.q, entry))


async def feedback(query: CallbackQuery, callback_data: Feedback, bot: Bot, topic: Topic,
                   conversation: Conversation, delivery: Delivery) -> None:
    citizen = citizen_of(query)
    if not await conversation.feedback(topic, citizen, callback_data.q, callback_data.helpful):
        await stale_button(query, bot, topic, delivery)
        return
    if callback_data.helpful:
        await delivery.answer_callback(bot, query.id, topic.texts.feedback_thanks)
        return
    await delivery.answer_callback(bot, query.id)
    await delivery.send_text(bot, citizen.chat_id, topic.texts.not_helpful,
                             reply_markup=keyboards.ask_person(topic.texts, callback_data.q))


async def person(query: CallbackQuery, callback_data: Person, bot: Bot, topic: Topic,
                 conversation: Conversation, delivery: Delivery, desk: Desk) -> None:
    citizen = citizen_of(query)
    outcome = await conversation.ask_person(topic, citizen, callback_data.q)
    if outcome is None:
        await stale_button(query, bot, topic, delivery)
        return
    await delivery.answer_callback(bot, query.id)
    if outcome.kind is OutcomeKind.ESCALATE:
        await delivery.send_text(bot, citizen.chat_id,
                                 topic.texts.ask_person.format(question_id=callback_data.q))
        return
    await render(outcome, topic, bot, citizen.chat_id, delivery, desk)


def browsing_router() -> Router:
    router = Router(name="citizen.browsing")
    router.callback_query.register(menu, Menu.filter())
    router.callback_query.register(category, Category.filter())
    router.callback_query.register(show, Show.filter())
    router.callback_query.register(pick, Pick.filter())
    router.callback_query.register(feedback, Feedback.filter())
    router.callback_query.register(person, Person.filter())
    return router
