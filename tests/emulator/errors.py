"""Telegram's error answers: one exception type and the exact description strings.

aiogram 3 classifies errors by HTTP status only, so bots tell "too long" from "can't parse
entities" by the description. These strings are the ones Telegram sends.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
USER_NOT_FOUND = "Bad Request: user not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
CANT_PARSE = "Bad Request: can't parse entities: "
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
CANT_EDIT = "Bad Request: message can't be edited"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CANT_DELETE = "Bad Request: message can't be deleted"
COPY_NOT_FOUND = "Bad Request: message to copy not found"
CANT_COPY = "Bad Request: message can't be copied"
FORWARD_NOT_FOUND = "Bad Request: message to forward not found"
QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
NOT_A_FORUM = "Bad Request: the chat is not a forum"
NO_TOPIC_RIGHTS = "Bad Request: not enough rights to create a topic"
NO_TOPIC_MANAGE_RIGHTS = "Bad Request: not enough rights to manage topics"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
TOPIC_NOT_MODIFIED = "Bad Request: TOPIC_NOT_MODIFIED"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
NO_FILE = "Bad Request: there is no file in the request"
FILE_NOT_FOUND = "Bad Request: invalid file_id"
BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
BOT_TO_BOT = "Forbidden: bot can't send messages to bots"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request;"
    " make sure that only one bot instance is running"
)


def not_member(chat_type: str) -> str:
    """403 for a group the bot has left (``chat_type`` is ``group`` or ``supergroup``)."""
    return f"Forbidden: bot is not a member of the {chat_type} chat"


def kicked(chat_type: str) -> str:
    """403 for a group the bot was removed from."""
    return f"Forbidden: bot was kicked from the {chat_type} chat"


def too_many_requests(retry_after: int) -> str:
    return f"Too Many Requests: retry after {retry_after}"


#: Descriptions used by faults that give only a status.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: UNAUTHORIZED,
    403: "Forbidden",
    404: NOT_FOUND,
    409: POLL_CONFLICT,
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code", "description", "parameters"}``."""

    def __init__(self, status: int, description: str,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False, "error_code": self.status, "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body
