"""A local Telegram Bot API emulator for testing aiogram bots.

An aiohttp server on ``127.0.0.1`` (random port) in its own thread and event loop. Real bots talk
to it over HTTP with ``TelegramAPIServer.from_base(emu.base_url)`` (or ``TELEGRAM_API_URL`` for
a ``python bot.py`` subprocess); the test drives users, groups and faults through a thread-safe
:class:`Emulator` and waits on events, never on sleeps. Every request is checked against the
Bot API spec (:class:`SpecValidator`); violations are recorded, answered with 400 by default,
and :meth:`Emulator.assert_no_violations` fails the test.

Sync test (e.g. a bot subprocess)::

    with Emulator() as emu:
        bot = emu.add_bot(token="123:ABC", username="payments_test_bot")
        user = emu.add_user(first_name="Иван")
        ...  # start `python bot.py` with TELEGRAM_API_URL=emu.base_url
        emu.send_text(bot, user, "/start")
        reply = emu.wait_for_message(user.id, bot=bot, contains="Здравствуйте")
        query = emu.press_button(bot, user, reply, "menu:topics")
        emu.wait_for(lambda: emu.callback_answered(query))
        emu.assert_no_violations()

Async test (a Dispatcher polling in the test's loop)::

    async def test_reply(emulator: Emulator) -> None:
        bot_account = emulator.add_bot(token="123:ABC")
        session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
        bot = Bot(bot_account.token, session=session)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        user = emulator.add_user()
        emulator.send_text(bot_account, user, "привет")
        await emulator.await_for_message(user.id, contains="Здравствуйте")
        await dp.stop_polling()
        await polling

Faults: ``emu.inject_fault("sendMessage", status=429, retry_after=2, times=2)``, ``delay=``,
``after_commit=True``, ``drop_connection=True``, ``html_body=``, ``migrate_to_chat_id=``;
``emu.pause()``/``emu.resume()``/``emu.stop_accepting(seconds)`` for "connection refused".
Webhooks: ``emu.set_webhook(bot, url, secret_token=...)`` (or the bot's setWebhook) makes the
emulator POST the bot's updates there, in order per chat, retrying until answered 2xx;
``emu.deliveries(bot)`` lists the attempts. Users: ``block_bot``, ``deactivate``; updates:
``inject_update``, ``redeliver``. Rates: ``emu.max_rate(chat_id, window=1.0)``,
``Emulator(strict_rates=True)``.
"""

from tests.emulator.driver import Emulator
from tests.emulator.errors import ApiError
from tests.emulator.faults import Fault
from tests.emulator.fixtures import running_emulator
from tests.emulator.formatting import parse_html, utf16_len
from tests.emulator.model import (
    BotAccount,
    Call,
    ForumTopic,
    GroupChat,
    UserAccount,
    WebhookDelivery,
)
from tests.emulator.spec import SpecValidator, UploadedFile, Violation

__all__ = [
    "ApiError",
    "BotAccount",
    "Call",
    "Emulator",
    "Fault",
    "ForumTopic",
    "GroupChat",
    "SpecValidator",
    "UploadedFile",
    "UserAccount",
    "Violation",
    "WebhookDelivery",
    "parse_html",
    "running_emulator",
    "utf16_len",
]
