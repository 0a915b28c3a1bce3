"""The baseline for ``bench.bench_bots``: a bare aiogram echo bot, one handler, no database.

    TELEGRAM_API_URL=http://127.0.0.1:PORT ECHO_BOT_TOKEN=1:X python -m bench.echo_bot

Polls like the suite (``POLLING_TIMEOUT``, aiogram's default handling of each update as a
task) and answers every text message with the same text. Stops on SIGINT/SIGTERM. Runs on
the suite's event loop: uvloop where it is installed.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


def dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return dp


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["ECHO_BOT_TOKEN"], session=session)
    timeout = int(os.environ.get("POLLING_TIMEOUT", "25"))
    await dispatcher().start_polling(bot, polling_timeout=timeout)


if __name__ == "__main__":
    try:  # the same event loop as the suite (bots.runner.run_event_loop)
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
