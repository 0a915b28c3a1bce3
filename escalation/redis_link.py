"""The Redis link replicas share state over: one client per process and how an outage is told.

Every user of Redis here (the flood limiter, the citizens' flood limit, operator rights, card
wake-ups) keeps working while Redis is away, each in its own safe way; what they share is the
client (:func:`connect`), what counts as Redis being away (:data:`UNREACHABLE`) and the rule for
saying so (:class:`Outage`: once when it starts, once when it ends, never per request).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

#: What a Redis call raises when the server is away (refused, reset, timed out, restarting).
UNREACHABLE: Final = (RedisError, OSError)


def connect(url: str, *, timeout: float = 2.0) -> Redis:
    """A client whose calls end within ``timeout`` seconds when the server is dead or hung,
    with one immediate retry for a connection a restart dropped: the caller's own waiting
    decides what happens next."""
    client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                   retry=Retry(NoBackoff(), 1))
    return client


@dataclass
class Outage:
    """``<tag> Redis unreachable (<error>): <meanwhile>`` once per outage (WARNING) and
    ``<tag> Redis works again`` once when it ends (INFO), in the user's own ``log``."""

    log: logging.Logger
    tag: str
    meanwhile: str
    down: bool = False

    def failed(self, error: BaseException) -> None:
        if not self.down:
            self.down = True
            self.log.warning("%s Redis unreachable (%s): %s", self.tag, type(error).__name__,
                             self.meanwhile)

    def worked(self) -> None:
        if self.down:
            self.down = False
            self.log.info("%s Redis works again", self.tag)
