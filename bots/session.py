"""The HTTP session the bots talk to the Bot API with.

aiogram's :class:`AiohttpSession` sends every request as a form: each field percent-encoded in
Python, every byte of a Russian answer becoming ``%D0%9F``… (~45 µs for a 2 KB message, with the
form machinery ~7 % of the CPU a question costs). The Bot API accepts the same parameters as a
JSON body (https://core.telegram.org/bots/api#making-requests), encoded in C. Requests that
upload files still go as multipart forms, through aiogram.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

_JSON = {"Content-Type": "application/json"}


class JsonSession(AiohttpSession):
    """An :class:`AiohttpSession` that sends requests without files as JSON."""

    def json_payload(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
        """The request's parameters as JSON values; None when it uploads a file."""
        files: dict[str, InputFile] = {}
        payload = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                payload[key] = prepared
        return None if files else payload

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:  # noqa: ASYNC109
        payload = self.json_payload(bot, method)
        if payload is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=self.json_dumps(payload), headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as response:
                raw_result = await response.text()
        # The same errors as aiogram's own session raises.
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method,
                                       message=f"{type(error).__name__}: {error}") from error
        result = self.check_response(bot=bot, method=method, status_code=response.status,
                                     content=raw_result)
        return cast(TelegramType, result.result)
