"""The Telegram Bot API emulator, driven by a real aiogram ``Bot`` and ``Dispatcher``."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CreateForumTopic,
    EditMessageText,
    GetUpdates,
    SendDocument,
    SendMessage,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from aiogram.utils.formatting import Bold, Text, TextLink
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.emulator import Emulator, SpecValidator, UploadedFile, parse_html, running_emulator
from tests.emulator import errors as tg
from tests.emulator.formatting import HtmlError

TOKEN = "123456:TEST-token"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


def make_bot(emu: Emulator, token: str = TOKEN, client_timeout: float = 5.0) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url),
                             timeout=client_timeout)
    return Bot(token, session=session)


@asynccontextmanager
async def api(emu: Emulator, token: str = TOKEN,
              client_timeout: float = 5.0) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking to the emulator (``client_timeout``: session timeout)."""
    bot = make_bot(emu, token, client_timeout)
    try:
        yield bot
    finally:
        await bot.session.close()


@asynccontextmanager
async def polling(emu: Emulator, router: Router, token: str = TOKEN) -> AsyncIterator[Bot]:
    """A Dispatcher polling the emulator in this test's event loop."""
    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(emu, token)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    await emu.await_for_call("getUpdates", finished=False, timeout=5)
    try:
        yield bot
    finally:
        await dp.stop_polling()
        await task


def sent_form(method: TelegramMethod[Any], bot: Bot) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form fields and file parts aiogram would send for ``method``."""
    files: dict[str, Any] = {}
    form = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = bot.session.prepare_value(value, bot=bot, files=files)
        if prepared:
            form[key] = prepared
    return form, {k: UploadedFile(k, "file", "application/octet-stream", b"") for k in files}


# --- basic traffic ------------------------------------------------------------------------------

async def test_get_me_returns_the_bot(emu: Emulator) -> None:
    emu.add_bot(token=TOKEN, username="payments_test_bot", first_name="Выплаты")
    async with api(emu) as bot:
        me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        123456, "payments_test_bot", "Выплаты", True)
    [call] = emu.calls(method="getMe")
    assert call.ok
    assert call.result["username"] == "payments_test_bot"


async def test_injected_message_reaches_handler_and_reply_is_recorded(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(first_name="Иван")
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Вы написали: {message.text}")

    async with polling(emu, router):
        sent = emu.send_text(bot_account, user, "Когда придёт пособие?")
        reply = await emu.await_for_message(user.id, contains="Вы написали")
    assert reply["text"] == "Вы написали: Когда придёт пособие?"
    assert reply["chat"]["id"] == user.id
    assert reply["from"]["id"] == bot_account.id
    assert reply["message_id"] == sent["message_id"] + 1
    assert emu.last_message(user.id) == reply
    assert emu.pending_updates(bot_account) == []


async def test_callback_is_answered_once_and_a_second_answer_fails(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user()
    router = Router()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="vote:yes")]])

    @router.message()
    async def menu(message: Message) -> None:
        await message.answer("Помог ли ответ?", reply_markup=keyboard)

    @router.callback_query(F.data == "vote:yes")
    async def vote(query: CallbackQuery) -> None:
        await query.answer("Спасибо!")

    async with polling(emu, router) as bot:
        emu.send_text(bot_account, user, "вопрос")
        menu_message = await emu.await_for_message(user.id, contains="Помог")
        assert menu_message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
            "vote:yes")
        query_id = emu.press_button(bot_account, user, menu_message, "vote:yes")
        await emu.await_for(lambda: emu.callback_answered(query_id))
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id, text="ещё раз")
    answers = emu.callback_answers(query_id)
    assert [(a["text"], a["ok"]) for a in answers] == [("Спасибо!", True), ("ещё раз", False)]


async def test_copy_message_keeps_text_entities_and_caption(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    operator = emu.add_user(first_name="Оператор")
    citizen = emu.add_user(first_name="Гражданин", started=[bot_account])
    group = emu.add_group("Операторы", members={operator.id: "member"})
    entities = [{"type": "bold", "offset": 0, "length": 5},
                {"type": "text_link", "offset": 6, "length": 6, "url": "https://gosuslugi.ru"}]
    answer = emu.send_text(bot_account, operator, "Ответ: ссылка 😀", chat=group,
                           entities=entities)
    photo = emu.send_photo(bot_account, operator, chat=group, caption="Скан <b>справки</b>")
    async with api(emu) as bot:
        copied = await bot.copy_message(citizen.id, group.id, answer["message_id"])
        await bot.copy_message(citizen.id, group.id, photo["message_id"])
        with pytest.raises(TelegramBadRequest, match="message to copy not found"):
            await bot.copy_message(citizen.id, group.id, 999)
    text_copy, photo_copy = emu.messages(citizen.id)
    assert text_copy["message_id"] == copied.message_id
    assert (text_copy["text"], text_copy["entities"]) == ("Ответ: ссылка 😀", entities)
    assert photo_copy["caption"] == "Скан <b>справки</b>"  # never re-parsed
    assert photo_copy["photo"] == photo["photo"]


async def test_html_parse_mode_is_parsed_like_telegram(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    async with api(emu) as bot:
        sent = await bot.send_message(user.id, "<b>Важно</b>: срок &lt;3 дней 🙂",
                                      parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match='Unsupported start tag "script"'):
            await bot.send_message(user.id, "<script>alert(1)</script>", parse_mode="HTML")
    assert sent.text == "Важно: срок <3 дней 🙂"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 5)]
    [violation] = emu.take_violations()
    assert (violation.code, violation.field) == ("markup", "text")


# --- chats, members, forum topics --------------------------------------------------------------

async def test_telegram_refusals_for_chats_and_users(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    blocked = emu.add_user(started=[bot_account])
    gone = emu.add_user(started=[bot_account])
    stranger = emu.add_user()
    group = emu.add_group("Чужая группа", bots=[])
    emu.block_bot(bot_account, blocked)
    emu.deactivate(gone)
    async with api(emu) as bot:
        for chat_id, error, expected in (
            (blocked.id, TelegramForbiddenError, tg.BLOCKED),
            (gone.id, TelegramForbiddenError, tg.DEACTIVATED),
            (stranger.id, TelegramForbiddenError, tg.CANT_INITIATE),
            (group.id, TelegramForbiddenError, tg.not_member("supergroup")),
            (-100999, TelegramBadRequest, tg.CHAT_NOT_FOUND),
        ):
            with pytest.raises(error) as caught:
                await bot.send_message(chat_id, "Ответ")
            assert caught.value.message == expected
    kicked = emu.updates(bot_account)[-1]["my_chat_member"]
    assert kicked["new_chat_member"]["status"] == "kicked"


async def test_reply_to_missing_message_and_empty_or_long_text() -> None:
    with Emulator(reject_violations=False) as emu:  # let Telegram's own checks answer
        bot_account = emu.add_bot(token=TOKEN)
        user = emu.add_user()
        question = emu.send_text(bot_account, user, "вопрос")
        async with api(emu) as bot:
            reply = await bot.send_message(
                user.id, "ответ", reply_parameters=ReplyParameters(
                    message_id=question["message_id"]))
            assert reply.reply_to_message is not None
            with pytest.raises(TelegramBadRequest, match=tg.REPLY_NOT_FOUND):
                await bot.send_message(user.id, "ответ",
                                       reply_parameters=ReplyParameters(message_id=999))
            await bot.send_message(user.id, "ответ", reply_parameters=ReplyParameters(
                message_id=999, allow_sending_without_reply=True))
            with pytest.raises(TelegramBadRequest, match=tg.TEXT_EMPTY):
                await bot.send_message(user.id, "   ")
            with pytest.raises(TelegramBadRequest, match=tg.TEXT_TOO_LONG):
                await bot.send_message(user.id, "😀" * 2049)  # 4098 UTF-16 units
            await bot.send_message(user.id, "😀" * 2048)  # exactly 4096
        assert {v.code for v in emu.violations()} == {"limit"}


async def test_forum_topics_allowed_only_with_rights(emu: Emulator) -> None:
    emu.add_bot(token=TOKEN)
    forum = emu.add_group("Очередь", forum=True)
    no_rights = emu.add_group("Без прав", forum=True, can_manage_topics=False)
    plain = emu.add_group("Обычная")
    async with api(emu) as bot:
        topic = await bot.create_forum_topic(forum.id, "Заявка №1")
        with pytest.raises(TelegramBadRequest, match=tg.NO_TOPIC_RIGHTS):
            await bot.create_forum_topic(no_rights.id, "Заявка")
        with pytest.raises(TelegramBadRequest, match=tg.NOT_A_FORUM):
            await bot.create_forum_topic(plain.id, "Заявка")
        sent = await bot.send_message(forum.id, "Новый вопрос",
                                      message_thread_id=topic.message_thread_id)
        assert await bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Закрыта")
        assert await bot.close_forum_topic(forum.id, topic.message_thread_id)
        assert await bot.reopen_forum_topic(forum.id, topic.message_thread_id)
        with pytest.raises(TelegramBadRequest, match=tg.THREAD_NOT_FOUND):
            await bot.send_message(forum.id, "x", message_thread_id=4242)
    assert sent.message_thread_id == topic.message_thread_id
    assert sent.is_topic_message
    assert [t.name for t in emu.topics(forum)] == ["Закрыта"]
    assert emu.messages(forum.id, thread_id=topic.message_thread_id)[0]["text"] == "Новый вопрос"


async def test_chat_and_member_lookups_match_the_spec(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    owner, member, outsider = emu.add_user("Анна"), emu.add_user("Борис"), emu.add_user("Вера")
    group = emu.add_group("Операторы", members={owner.id: "creator", member.id: "member"})
    async with api(emu) as bot:
        assert (await bot.get_chat_member(group.id, owner.id)).status == "creator"
        assert (await bot.get_chat_member(group.id, member.id)).status == "member"
        assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
        me = await bot.get_chat_member(group.id, bot_account.id)
        assert me.status == "administrator"
        admins = await bot.get_chat_administrators(group.id)
        assert {a.user.id for a in admins} == {owner.id, bot_account.id}
        chat = await bot.get_chat(group.id)
        assert (chat.title, chat.type) == ("Операторы", "supergroup")
        await bot.set_my_commands([BotCommand(command="start", description="Начать")],
                                  scope=BotCommandScopeAllPrivateChats())
        commands = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
        assert [c.command for c in commands] == ["start"]
        await bot.send_chat_action(group.id, "typing")
        assert await bot.leave_chat(group.id)
        with pytest.raises(TelegramForbiddenError, match="not a member"):
            await bot.send_message(group.id, "x")
    validator = SpecValidator.load()
    for call in emu.calls():
        if call.method == "sendMessage":
            continue  # the refused one
        assert call.ok, call.summary()
        assert validator.check_value(call.result, validator.returns(call.method)) == [], (
            call.method)


async def test_uploads_edits_and_deletes(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    async with api(emu) as bot:
        doc = await bot.send_document(user.id, BufferedInputFile(b"%PDF-1.4", "spravka.pdf"),
                                      caption="Справка")
        assert doc.document is not None
        file = await bot.get_file(doc.document.file_id)
        assert file.file_path is not None
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        assert downloaded.read() == b"%PDF-1.4"
        text = await bot.send_message(user.id, "Черновик", reply_markup=ForceReply())
        await bot.edit_message_text("Итог", chat_id=user.id, message_id=text.message_id)
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("Итог", chat_id=user.id, message_id=text.message_id)
        assert await bot.delete_message(user.id, doc.message_id)
    [edited] = emu.messages(user.id)
    assert (edited["text"], "edit_date" in edited) == ("Итог", True)
    assert emu.is_deleted(user.id, doc.message_id)


# --- faults ------------------------------------------------------------------------------------

FAULTS: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"status": 429, "retry_after": 2}, TelegramRetryAfter),
    ({"status": 403, "description": tg.BLOCKED}, TelegramForbiddenError),
    ({"status": 400, "description": tg.TEXT_TOO_LONG}, TelegramBadRequest),
    ({"migrate_to_chat_id": -1001234567890}, TelegramMigrateToChat),
    ({"status": 500}, TelegramServerError),
    ({"status": 502, "description": "Bad Gateway"}, TelegramServerError),
    ({"status": 409}, TelegramConflictError),
    ({"html_body": "<html><body>502 Bad Gateway</body></html>"}, ClientDecodeError),
    ({"drop_connection": True}, TelegramNetworkError),
]


@pytest.mark.parametrize(("fault", "expected"), FAULTS,
                         ids=[f"{e.__name__}-{'-'.join(f)}" for f, e in FAULTS])
async def test_injected_fault_maps_to_aiogram_exception(
        emu: Emulator, fault: dict[str, Any], expected: type[Exception]) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    handle = emu.inject_fault("sendMessage", chat_id=user.id, **fault)
    async with api(emu) as bot:
        with pytest.raises(expected) as caught:
            await bot.send_message(user.id, "Ответ")
        await bot.send_message(user.id, "Ответ")  # times=1: the next one goes through
    assert handle.hits == 1
    if isinstance(caught.value, TelegramRetryAfter):
        assert caught.value.retry_after == 2
    if isinstance(caught.value, TelegramMigrateToChat):
        assert caught.value.migrate_to_chat_id == -1001234567890
    assert not isinstance(caught.value, ClientDecodeError) or not isinstance(
        caught.value, TelegramAPIError)
    assert len(emu.messages(user.id)) == 1


async def test_fault_matching_by_contains_and_times(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    handle = emu.inject_fault("sendMessage", contains="<", times=2, status=400,
                              description=tg.CANT_PARSE + "Unsupported start tag")
    async with api(emu) as bot:
        await bot.send_message(user.id, "без разметки")
        for _ in range(2):
            with pytest.raises(TelegramBadRequest, match="can't parse entities"):
                await bot.send_message(user.id, "a < b")
        await bot.send_message(user.id, "a < b")
    assert handle.hits == 2
    assert [m["text"] for m in emu.messages(user.id)] == ["без разметки", "a < b"]


async def test_slow_server_times_out_and_after_commit_keeps_the_message(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    emu.inject_fault("sendMessage", contains="до", delay=1.5)
    emu.inject_fault("sendMessage", contains="после", delay=1.5, after_commit=True)
    async with api(emu, client_timeout=0.3) as bot:
        with pytest.raises(TelegramNetworkError, match="Request timeout error"):
            await bot.send_message(user.id, "до записи")
        with pytest.raises(TelegramNetworkError, match="Request timeout error"):
            await bot.send_message(user.id, "после записи")
    await emu.await_for_call("sendMessage", where=lambda c: c.params["text"] == "до записи")
    # Delay before the commit: the client gave up, nothing was stored. After: it was stored.
    assert [m["text"] for m in emu.messages(user.id)] == ["после записи"]


async def test_unknown_method_is_404_and_unknown_token_is_401(emu: Emulator) -> None:
    emu.add_bot(token=TOKEN)
    async with api(emu) as bot:
        with pytest.raises(TelegramNotFound, match="Not Found"):
            await bot.session.make_request(bot, _UnknownMethod())
    async with api(emu, token="999:nope") as stranger:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    [violation] = emu.take_violations()
    assert violation.code == "unknown_method"


class _UnknownMethod(TelegramMethod[bool]):
    __returning__ = bool
    __api_method__ = "sendTelepathy"


async def test_spec_violation_is_answered_400_and_recorded(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    async with api(emu) as bot:
        with pytest.raises(TelegramBadRequest, match="deprecated alias"):
            await bot.send_message(user.id, "x", reply_to_message_id=1)
    [violation] = emu.violations()
    assert (violation.method, violation.field, violation.code) == (
        "sendMessage", "reply_to_message_id", "deprecated_field")
    assert violation.href == "https://core.telegram.org/bots/api#sendmessage"
    with pytest.raises(AssertionError, match="reply_to_message_id"):
        emu.assert_no_violations()
    emu.take_violations()


# --- outages and updates -------------------------------------------------------------------------

async def test_pause_refuses_connections_and_resume_reopens_the_same_port(
        emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    port = emu.port
    async with api(emu) as bot:
        await bot.send_message(user.id, "раз")
        emu.pause()
        # A pooled keep-alive connection may fail first with "Server disconnected"; a new
        # connection is refused.
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(user.id, "два")
        with pytest.raises(TelegramNetworkError, match="Cannot connect"):
            await bot.send_message(user.id, "два")
        emu.resume()
        await bot.send_message(user.id, "три")
        emu.stop_accepting(0.3)
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(user.id, "четыре")
        await emu.await_for(lambda: not emu.paused, timeout=3)
        await bot.send_message(user.id, "пять")
    assert emu.port == port
    assert [m["text"] for m in emu.messages(user.id)] == ["раз", "три", "пять"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user()
    async with api(emu) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        pending = await emu.await_for_call("getUpdates", finished=False)
        assert pending.outcome == "pending"
        started = time.monotonic()
        emu.send_text(bot_account, user, "вопрос")
        [update] = await poll
        assert time.monotonic() - started < 2  # not the 20 s poll timeout
        assert update.message is not None
        assert update.message.text == "вопрос"
        # Not confirmed yet: delivered again until offset passes it.
        assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
        assert await bot.get_updates(offset=update.update_id + 1) == []
        emu.redeliver(bot_account, update.update_id)
        assert [u.update_id for u in await bot.get_updates(offset=update.update_id + 1)] == [
            update.update_id]


async def test_updates_offset_allowed_updates_and_raw_injection(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user()
    async with api(emu) as bot:
        assert await bot.get_updates(allowed_updates=["message"]) == []
        first = emu.send_text(bot_account, user, "1")
        emu.block_bot(bot_account, user)  # my_chat_member: filtered out by allowed_updates
        emu.send_text(bot_account, user, "2")
        odd = emu.inject_update(bot_account, {"future_update": {"x": 1}}, update_id=5_000_000)
        updates = await bot.get_updates(offset=-10)
    assert [u.message.text for u in updates if u.message] == ["1", "2"]
    assert updates[-1].update_id == odd
    assert emu.updates(bot_account)[0]["message"]["message_id"] == first["message_id"]
    # blocked, then unblocked by writing again: both my_chat_member updates were not allowed
    assert [list(u) for u in emu.dropped_updates(bot_account)] == [["my_chat_member"]] * 2


async def test_json_bodies_forwards_and_keyboard_edits(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    citizen = emu.add_user(started=[bot_account])
    group = emu.add_group("Операторы")
    question = emu.send_text(bot_account, citizen, "Где справка?")
    async with aiohttp.ClientSession() as session, session.post(
            f"{emu.base_url}/bot{TOKEN}/forwardMessage", json={
                "chat_id": group.id, "from_chat_id": citizen.id,
                "message_id": question["message_id"]}) as response:
        forwarded = (await response.json())["result"]
    async with api(emu) as bot:
        sent = await bot.send_message(group.id, "Ответить?", reply_markup=KEYBOARD)
        edited = await bot.edit_message_reply_markup(chat_id=group.id,
                                                     message_id=sent.message_id)
    assert forwarded["forward_origin"]["sender_user"]["id"] == citizen.id
    assert forwarded["text"] == "Где справка?"
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert "reply_markup" not in emu.message(group.id, sent.message_id)


async def test_webhook_conflicts_with_polling_until_deleted(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    emu.set_webhook(bot_account, "https://example.org/hook")
    async with api(emu) as bot:
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook(drop_pending_updates=False)
        assert await bot.get_updates() == []


def test_sync_driver_with_plain_http_and_wait_for(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user()
    emu.send_text(bot_account, user, "/start")

    def post(method: str, **params: Any) -> dict[str, Any]:
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(f"{emu.base_url}/bot{TOKEN}/{method}", data=data)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        return body

    [update] = post("getUpdates")["result"]
    assert update["message"]["entities"][0]["type"] == "bot_command"
    post("sendMessage", chat_id=user.id, text="Здравствуйте!")
    assert emu.wait_for_message(user.id, contains="Здравствуйте")["text"] == "Здравствуйте!"
    assert post("fooBar")["error_code"] == 404
    emu.take_violations()
    with pytest.raises(AssertionError, match=r"last requests:\n.*getUpdates"):
        emu.wait_for(lambda: len(emu.messages(user.id)) >= 2, timeout=0.2)


# --- rates -------------------------------------------------------------------------------------

async def test_send_rates_and_strict_flood_control(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    user = emu.add_user(started=[bot_account])
    emu.set_strict_rates()
    async with api(emu) as bot:
        for i in range(3):  # a burst of 3 is tolerated
            await bot.send_message(user.id, f"часть {i}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(user.id, "часть 3")
    assert caught.value.retry_after >= 1
    assert emu.max_rate(user.id, window=1.0) == 3
    assert emu.max_rate(window=1.0, bot=bot_account) == 3
    assert len(emu.send_times(user.id)) == 3


# --- the spec validator on its own ---------------------------------------------------------------

def _validate(method: TelegramMethod[Any]) -> list[str]:
    validator = SpecValidator.load()
    bot = Bot(TOKEN)
    form, files = sent_form(method, bot)
    params = validator.decode(method.__api_method__, form, files)
    return [f"{v.code}:{v.field}" for v in validator.validate(method.__api_method__, params,
                                                                  files.keys())]


KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[
    InlineKeyboardButton(text="Да", callback_data="f:1:yes"),
    InlineKeyboardButton(text="Сайт", url="https://gosuslugi.ru")]])
CLEAN_REQUESTS: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=1, text="Ответ", reply_markup=KEYBOARD,
                reply_parameters=ReplyParameters(message_id=3),
                link_preview_options=LinkPreviewOptions(is_disabled=True)),
    SendMessage(chat_id=-100, **Text("Ответ ", Bold("оператора"),
                                     TextLink("ссылка", url="https://x.ru")).as_kwargs()),
    SendMessage(chat_id=1, text="<b>жирный</b> &amp; &lt;", parse_mode="HTML"),
    CopyMessage(chat_id=1, from_chat_id=-100, message_id=3, message_thread_id=7),
    SendDocument(chat_id=1, document=BufferedInputFile(b"x", "a.pdf"), caption="c"),
    AnswerCallbackQuery(callback_query_id="1", text="Спасибо", show_alert=False),
    CreateForumTopic(chat_id=-100, name="Заявка", icon_color=0x6FB9F0),
    EditMessageText(chat_id=1, message_id=2, text="x", reply_markup=KEYBOARD),
    SetMyCommands(commands=[BotCommand(command="start", description="Начать")],
                  scope=BotCommandScopeAllPrivateChats()),
    GetUpdates(offset=5, timeout=10, allowed_updates=["message", "callback_query"]),
]


@pytest.mark.parametrize("method", CLEAN_REQUESTS, ids=lambda m: m.__api_method__)
def test_validator_passes_clean_aiogram_requests(method: TelegramMethod[Any]) -> None:
    assert _validate(method) == []


@pytest.mark.parametrize(("method", "expected"), [
    (SendMessage(chat_id=1, text="x", reply_to_message_id=5),
     "deprecated_field:reply_to_message_id"),
    (SendMessage(chat_id=1, text="x", disable_web_page_preview=True),
     "deprecated_field:disable_web_page_preview"),
    (SendMessage(chat_id=1, text="x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="a", callback_data="я" * 33)]])),
     "limit:reply_markup.inline_keyboard[0][0].callback_data"),  # 66 bytes
    (SendMessage(chat_id=1, text="a & b", parse_mode="HTML"), "markup:text"),
    (SendMessage(chat_id=1, text="x" * 4097), "limit:text"),
    (AnswerCallbackQuery(callback_query_id="1", text="x" * 201), "limit:text"),
], ids=["reply_to_message_id", "disable_web_page_preview", "callback_data", "raw-amp",
        "too-long", "callback-text"])
def test_validator_catches_aiogram_misuse(method: TelegramMethod[Any], expected: str) -> None:
    assert _validate(method) == [expected]


def test_validator_catches_missing_wrong_and_unknown_fields() -> None:
    validator = SpecValidator.load()

    def codes(method: str, form: dict[str, Any]) -> list[str]:
        params = validator.decode(method, form)
        return [f"{v.code}:{v.field}" for v in validator.validate(method, params)]

    assert codes("sendMessage", {"text": "x"}) == ["missing_field:chat_id"]
    assert codes("sendMessage", {"chat_id": "1", "text": "x", "silent": "true"}) == [
        "unknown_field:silent"]
    assert codes("getUpdates", {"limit": "many"}) == ["wrong_type:limit"]
    assert codes("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": json.dumps(
        {"inline_keyboard": [[{"text": "a", "callback_data": 5}]]})}) == [
        "wrong_type:reply_markup.inline_keyboard[0][0].callback_data"]
    assert codes("setMyCommands", {"commands": "[]", "scope": '{"type": "chat"}'}) == [
        "missing_field:scope.chat_id"]
    assert codes("sendMessage", {"chat_id": "1", "text": "ab", "entities": json.dumps(
        [{"type": "bold", "offset": 1, "length": 2}])}) == ["entities:entities[0]"]
    [violation] = validator.validate("sendTelepathy", {})
    assert violation.code == "unknown_method"
    [violation] = validator.validate("sendMessage", {"chat_id": True, "text": "x"})
    assert "expected Integer or String" in str(violation)
    assert "https://core.telegram.org/bots/api#sendmessage" in str(violation)


def test_html_parser_follows_telegram() -> None:
    parsed = parse_html('<b>Ж<i>и</i></b> 😀<a href="https://x.ru?a=1&amp;b=2">ссылка</a>'
                        "<pre><code class=\"language-python\">x</code></pre>")
    assert parsed.text == "Жи 😀ссылкаx"
    assert parsed.entities == [
        {"offset": 0, "length": 2, "type": "bold"},
        {"offset": 1, "length": 1, "type": "italic"},
        {"offset": 5, "length": 6, "type": "text_link", "url": "https://x.ru?a=1&b=2"},
        {"offset": 11, "length": 1, "type": "pre", "language": "python"},
    ]
    for bad, reason in (("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
                        ("a < b", 'Unsupported start tag "" at byte offset 2'),
                        ("<b>x</i>", "Unmatched end tag at byte offset 4"),
                        ("</b>", "Unexpected end tag at byte offset 0")):
        with pytest.raises(HtmlError) as caught:
            parse_html(bad)
        assert str(caught.value).startswith(reason)
    assert parse_html("A & B").raw_ampersands == [2]


# --- webhook push --------------------------------------------------------------------------------


class Receiver:
    """A bot's webhook endpoint: records each POST; ``hold`` (update ids) waits for ``release``
    before answering, ``fail`` (update id -> times) answers 500 that many times first."""

    def __init__(self) -> None:
        self.posts: list[tuple[int, int, str | None]] = []  # update_id, chat id, secret header
        self.hold: set[int] = set()
        self.release = asyncio.Event()
        self.fail: dict[int, int] = {}
        self._arrived = asyncio.Event()

    async def posted(self, count: int) -> None:
        """Wait until ``count`` POSTs arrived (answered or not)."""
        async with asyncio.timeout(5):
            while len(self.posts) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        update_id = update["update_id"]
        self.posts.append((update_id, update["message"]["chat"]["id"],
                           request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self._arrived.set()
        if update_id in self.hold:
            await self.release.wait()
        if self.fail.get(update_id, 0) > 0:
            self.fail[update_id] -= 1
            return web.Response(status=500, text="boom")
        return web.json_response({})


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    async with TestServer(app) as server:
        yield hook, str(server.make_url("/hook"))


async def test_webhook_push_keeps_each_chat_in_order_and_sends_the_secret(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    anna, boris = emu.add_user("Анна"), emu.add_user("Борис")
    async with receiver() as (hook, url), api(emu) as bot:
        assert await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])
        first = emu.send_text(bot_account, anna, "первый")
        hook.hold.add(emu.updates(bot_account)[-1]["update_id"])
        emu.send_text(bot_account, anna, "второй")
        emu.send_text(bot_account, boris, "другой чат")
        # Борис's update goes while Анна's first is unanswered; her second waits for it.
        await hook.posted(2)
        await emu.await_for(lambda: any(d.ok for d in emu.deliveries(bot_account)))
        await asyncio.sleep(0.3)  # nothing to wait for: Анна's second update must not come
        assert [chat for _, chat, _ in hook.posts] == [anna.id, boris.id]
        hook.release.set()
        await emu.await_for(lambda: len([d for d in emu.deliveries(bot_account) if d.ok]) == 3)
        info = await bot.get_webhook_info()
    assert [chat for _, chat, _ in hook.posts] == [anna.id, boris.id, anna.id]
    assert {secret for _, _, secret in hook.posts} == {"s3cret"}
    assert hook.posts[0][0] < hook.posts[2][0]
    assert first["text"] == "первый"
    assert info.url == url
    assert info.pending_update_count == 0
    assert info.allowed_updates == ["message"]
    assert info.last_error_date is None
    assert {d.url for d in emu.deliveries(bot_account)} == {url}


async def test_webhook_push_respects_max_connections(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    anna, boris = emu.add_user("Анна"), emu.add_user("Борис")
    async with receiver() as (hook, url):
        emu.set_webhook(bot_account, url, max_connections=1)
        emu.send_text(bot_account, anna, "держим")
        hook.hold.add(emu.updates(bot_account)[-1]["update_id"])
        emu.send_text(bot_account, boris, "ждёт")
        await hook.posted(1)
        await asyncio.sleep(0.3)  # nothing to wait for: Борис's update must not come
        assert len(hook.posts) == 1
        assert len(emu.pending_updates(bot_account)) == 2
        hook.release.set()
        await emu.await_for(lambda: len([d for d in emu.deliveries(bot_account) if d.ok]) == 2)
    assert [chat for _, chat, _ in hook.posts] == [anna.id, boris.id]


async def test_webhook_push_retries_after_500_and_reports_the_last_error(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    anna = emu.add_user("Анна")
    async with receiver() as (hook, url), api(emu) as bot:
        emu.set_webhook(bot_account, url, secret_token="s3cret")
        emu.send_text(bot_account, anna, "вопрос")
        update_id = emu.updates(bot_account)[-1]["update_id"]
        hook.fail[update_id] = 2
        await emu.await_for(lambda: any(d.ok for d in emu.deliveries(bot_account)))
        info = await bot.get_webhook_info()
    deliveries = emu.deliveries(bot_account)
    assert [(d.update_id, d.status) for d in deliveries] == [(update_id, 500), (update_id, 500),
                                                             (update_id, 200)]
    assert deliveries[1].time - deliveries[0].finished >= 0.15  # a backoff, not a hot loop
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None
    assert abs(info.last_error_date.timestamp() - time.time()) < 60


async def test_webhook_push_to_a_dead_endpoint_keeps_the_update(emu: Emulator) -> None:
    bot_account = emu.add_bot(token=TOKEN)
    anna = emu.add_user("Анна")
    async with receiver() as (_, url):
        pass  # its port is closed now
    async with api(emu) as bot:
        assert await bot.set_webhook(url)
        emu.send_text(bot_account, anna, "не потеряйся")
        await emu.await_for(lambda: len(emu.deliveries(bot_account)) >= 2)
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Connection refused"
        assert await bot.delete_webhook()
        updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["не потеряйся"]
    assert {d.status for d in emu.deliveries(bot_account)} == {None}
