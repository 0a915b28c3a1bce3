"""``python bot.py --check``: is this installation ready to run? A report for the admin.

Checks, in order: settings (environment and ``.env``), shared content, the database and its
migrations, the matching (the sentence encoder loads; how much of the FAQs the embedding
cache lacks), then per bot folder its content (texts, ``queue.yaml``, FAQ), its token (getMe)
and its operators' chat (getChat, getChatMember). Nothing is changed: the database is not
created nor upgraded, nothing is encoded nor cached, no message is sent. Each check is
``ok``, ``warning`` (it runs, but probably not as intended) or ``fail`` (it will not run, or
not that part); the exit code is 1 when anything failed. Tokens and database passwords never
appear in the report.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TextIO

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from aiogram.utils.token import TokenValidationError
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from pydantic import SecretStr, ValidationError
from sqlalchemy import make_url, pool, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bots.settings import Settings
from bots.smalltalk import SmallTalk, SmallTalkError
from bots.topic import FAQ_FILE, Topic, discover
from escalation.db import alembic_config
from faq import FaqError, FaqFile, load_faq
from faq.config import HybridConfig
from faq.embeddings import cache_file, missing
from faq.encoder import Encoder, load_encoder
from faq.semantic import embedded_texts

#: Seconds to wait for the database server to accept a connection.
DB_CONNECT_TIMEOUT: Final = 5.0
#: Seconds for one Bot API request.
API_TIMEOUT: Final = 10.0
#: FAQ problems quoted in a report line; the rest are counted.
SHOWN_PROBLEMS: Final = 1


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAIL = "fail"


TAGS: Final = {Status.OK: "[ OK ]", Status.WARNING: "[WARN]", Status.FAIL: "[FAIL]"}


@dataclass(frozen=True)
class Check:
    what: str
    status: Status
    message: str


@dataclass
class HealthReport:
    checks: list[Check] = field(default_factory=list)

    def add(self, what: str, status: Status, message: str) -> None:
        self.checks.append(Check(what, status, message))

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.checks)

    @property
    def failed(self) -> bool:
        return self.count(Status.FAIL) > 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def redacted(self, secrets: Iterable[str]) -> HealthReport:
        """The report with every occurrence of ``secrets`` replaced (a last line of defence:
        messages are written not to contain them)."""
        hidden = [s for s in secrets if s]

        def scrub(value: str) -> str:
            for secret in hidden:
                value = value.replace(secret, "<hidden>")
            return value

        return HealthReport([Check(scrub(c.what), c.status, scrub(c.message))
                             for c in self.checks])

    def lines(self) -> list[str]:
        width = max((len(c.what) for c in self.checks), default=0)
        return [f"{TAGS[c.status]} {c.what.ljust(width)}  {c.message}" for c in self.checks]

    def summary(self) -> str:
        failed, warnings = self.count(Status.FAIL), self.count(Status.WARNING)
        total = len(self.checks)
        noted = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        if failed:
            return f"FAILED: {failed} of {total} checks failed{noted}"
        return f"OK: {total} checks passed{noted}"

    def render(self) -> str:
        return "\n".join([*self.lines(), self.summary()])


# --- settings ------------------------------------------------------------------------------


def settings_failures(error: ValidationError) -> HealthReport:
    """One failed check per invalid variable, named as the admin sets it."""
    report = HealthReport()
    for problem in error.errors():
        loc = problem.get("loc") or ("?",)
        variable = str(loc[0]).upper()
        shown = problem.get("input")
        got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
        report.add("settings", Status.FAIL, f"{variable}: {problem['msg']}{got}")
    return report


def bot_settings(settings: Settings, names: list[str]) -> list[Check]:
    """The per-bot variables that are parsed (chat and operator ids)."""
    checks = []
    for name in names:
        for parse in (settings.operators_chat_id, settings.operator_ids):
            try:
                parse(name)
            except ValueError as error:
                checks.append(Check("settings", Status.FAIL, str(error)))
    return checks


def api_url_problem(url: str) -> str | None:
    if not url.startswith(("http://", "https://")):
        return f"TELEGRAM_API_URL must start with http:// or https://, got {url!r}"
    return None


# --- content -------------------------------------------------------------------------------


def load_content(bots_dir: Path, name: str) -> Check:
    """Texts, queue settings and FAQ of one bot, as :meth:`Topic.load` reads them at start."""
    what = f"{name}: content"
    try:
        topic = Topic.load(bots_dir, name)
    except FaqError as error:
        problems = [str(p) for p in error.problems] or [str(error)]
        more = len(problems) - SHOWN_PROBLEMS
        hint = (f" (and {more} more; see python -m faq lint {bots_dir / name / 'faq.yaml'})"
                if more > 0 else "")
        return Check(what, Status.FAIL,
                     f"FAQ is broken: {'; '.join(problems[:SHOWN_PROBLEMS])}{hint}")
    except Exception as error:  # anything that would stop the bot at start
        return Check(what, Status.FAIL, f"{type(error).__name__}: {error}")
    entries = len(topic.faq.current.faq.entries)
    return Check(what, Status.OK, f"texts, queue.yaml and FAQ load ({entries} FAQ entries)")


def load_smalltalk(bots_dir: Path) -> Check:
    path = bots_dir / "smalltalk.yaml"
    try:
        SmallTalk.from_file(path)
    except SmallTalkError as error:  # names the file and what is wrong
        return Check("smalltalk", Status.FAIL, str(error))
    return Check("smalltalk", Status.OK, f"{path} loads")


def _loadable_faqs(bots_dir: Path, names: list[str]) -> dict[Path, FaqFile]:
    faqs = {}
    for name in names:
        path = bots_dir / name / FAQ_FILE
        try:
            faqs[path] = load_faq(path)
        except (FaqError, OSError, ValueError):
            continue  # reported as that bot's content
    return faqs


def _cache_problem(directory: Path) -> str | None:
    """Why the bot could not write the embedding cache there (nothing is created)."""
    target = directory if directory.exists() else _nearest_existing(directory)
    if not target.is_dir():
        return f"{target} is not a directory"
    return None if os.access(target, os.W_OK) else f"{target} is not writable"


def _cache_state(encoder: Encoder, directory: Path, faqs: dict[Path, FaqFile]) -> str:
    answers = HybridConfig().answer_weight > 0  # what Matcher embeds with the defaults
    texts = {path: embedded_texts(faq, answers=answers) for path, faq in faqs.items()}
    cold = sum(missing(t, encoder, cache_file(directory, path, encoder.model_id))
               for path, t in texts.items())
    if cold == 0:
        return f"cache warm ({directory})"
    total = sum(len(set(t)) for t in texts.values())
    return (f"cache cold ({directory}): {cold} of {total} phrasings are embedded at the next "
            f"start, progress in its log")


def check_matching(settings: Settings, names: list[str]) -> Check:
    """The sentence encoder loads, and how much of the FAQs the embedding cache lacks (it is
    counted, not encoded: a cold cache costs the next start time, not this check)."""
    status = load_encoder(settings.faq_encoder, num_threads=settings.faq_encoder_threads)
    if status.encoder is None:
        if settings.faq_encoder == "off":
            return Check("matching", Status.OK, f"lexical only: {status.problem}")
        return Check("matching", Status.WARNING,
                     f"lexical only: {status.problem}; the bots match by words, not meaning")
    faqs = _loadable_faqs(settings.bots_dir, names)
    directory = settings.faq_embedding_cache.absolute()
    head = f"semantic: {status.encoder.model_id}, {len(faqs)} FAQ{'s' * (len(faqs) != 1)}"
    problem = _cache_problem(directory)
    if problem is not None:
        return Check("matching", Status.WARNING,
                     f"{head}, cache not writable ({problem}): FAQ phrasings are embedded "
                     f"again at every start; set FAQ_EMBEDDING_CACHE to a writable directory")
    return Check("matching", Status.OK, f"{head}, {_cache_state(status.encoder, directory, faqs)}")


# --- database ------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL (as escalation.db sees it); None if in memory or a URI."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _first_line(error: BaseException) -> str:
    """A short reason: the driver's error, not SQLAlchemy's wrapper with SQL and links."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else ""
    return f"{type(cause).__name__}: {reason}" if reason else type(cause).__name__


def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path("/")


def _upgrade_hint() -> str:
    return "`python bot.py` upgrades it at start, or run `alembic upgrade head`"


def migration_check(current: tuple[str, ...], script: ScriptDirectory, head: str) -> Check:
    if current == (head,):
        return Check("migrations", Status.OK, f"at head {head}")
    if not current:
        return Check("migrations", Status.FAIL,
                     f"not initialised: no schema revision, head is {head}; needs upgrade "
                     f"({_upgrade_hint()})")
    at = ", ".join(current)
    for revision in current:
        try:
            known = script.get_revision(revision) is not None
        except CommandError:
            known = False
        if not known:
            return Check("migrations", Status.FAIL,
                         f"at {at}, which no migration script knows (a database of a newer "
                         f"version, or another application's?); head is {head}")
    return Check("migrations", Status.FAIL,
                 f"needs upgrade: at {at}, head is {head} ({_upgrade_hint()})")


async def check_database(database_url: str) -> list[Check]:
    """Connect, ``SELECT 1`` and compare the schema revision with Alembic's head.

    Read-only: a missing SQLite file (or its directory) is reported, never created."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return [Check("database", Status.FAIL,
                      "DATABASE_URL is not a database URL (e.g. sqlite+aiosqlite:///data/"
                      "bots.sqlite3, postgresql+asyncpg://user@host/db)")]
    shown = url.render_as_string(hide_password=True)
    try:
        script = ScriptDirectory.from_config(alembic_config())
        head = script.get_current_head()
    except Exception as error:  # a broken checkout: report, do not crash
        return [Check("migrations", Status.FAIL, f"migration scripts unreadable: {error}")]
    if head is None:
        return [Check("migrations", Status.FAIL, "no migration scripts found")]

    connect_args: dict[str, Any] = {}
    if url.get_driver_name() == "asyncpg":
        connect_args["timeout"] = DB_CONNECT_TIMEOUT
    try:
        engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    except Exception as error:  # unknown dialect, a sync driver, no module
        return [Check("database", Status.FAIL,
                      f"{shown}: cannot use this URL ({_first_line(error)}); use "
                      f"sqlite+aiosqlite:///... or postgresql+asyncpg://...")]

    path = _sqlite_file(url)
    if path is not None and not path.exists():
        await engine.dispose()
        folder = _nearest_existing(path.absolute())
        if not os.access(folder, os.W_OK):
            return [Check("database", Status.FAIL,
                          f"{shown}: {path.absolute()} does not exist and cannot be created "
                          f"({folder} is not writable)")]
        return [Check("database", Status.WARNING,
                      f"not initialised: {path.absolute()} does not exist yet "
                      f"(`python bot.py` creates it)"),
                Check("migrations", Status.WARNING,
                      f"not initialised: the schema (head {head}) is created at the first start")]

    def revisions(sync_connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(sync_connection).get_current_heads())

    connected = False
    try:
        async with asyncio.timeout(DB_CONNECT_TIMEOUT * 2), engine.connect() as connection:
            connected = True
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(revisions)
    except TimeoutError:
        problem = (f"connected, but got no answer to a query within {DB_CONNECT_TIMEOUT * 2:g} s"
                   if connected else
                   f"cannot connect: no answer within {DB_CONNECT_TIMEOUT:g} s (is the server "
                   f"up and reachable from here?)")
        return [Check("database", Status.FAIL, f"{shown}: {problem}")]
    except Exception as error:  # refused, authentication, not a database, ...
        problem = "query failed" if connected else "cannot connect"
        return [Check("database", Status.FAIL, f"{shown}: {problem}: {_first_line(error)}")]
    finally:
        await engine.dispose()
    where = f" ({path.absolute()})" if path is not None and not path.is_absolute() else ""
    return [Check("database", Status.OK, f"{shown}{where} reachable"),
            migration_check(current, script, head)]


# --- Telegram ------------------------------------------------------------------------------


def _network_problem(error: AiogramError, api_url: str) -> str:
    reason = error.message if isinstance(error, TelegramAPIError) else str(error)
    return f"Bot API unreachable at {api_url} ({reason})"


async def check_token(bot: Bot, name: str, api_url: str) -> tuple[Check, User | None]:
    what = f"{name}: token"
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        return Check(what, Status.FAIL,
                     f"token rejected by the Bot API (401 Unauthorized): check "
                     f"{name.upper()}_BOT_TOKEN"), None
    except TelegramNotFound:
        return Check(what, Status.FAIL,
                     f"token rejected (404 Not Found): check {name.upper()}_BOT_TOKEN and "
                     f"that {api_url} is a Bot API server"), None
    except TelegramNetworkError as error:
        return Check(what, Status.FAIL, _network_problem(error, api_url)), None
    except TelegramAPIError as error:
        return Check(what, Status.FAIL, f"getMe failed: {error.message}"), None
    except AiogramError as error:  # e.g. not JSON: TELEGRAM_API_URL is some other server
        return Check(what, Status.FAIL,
                     f"unexpected answer from {api_url} ({type(error).__name__}): is it a Bot "
                     f"API server?"), None
    return Check(what, Status.OK, f"@{me.username} (id {me.id})"), me


async def check_operators_chat(bot: Bot, me: User, name: str, chat_id: int,
                               api_url: str) -> Check:
    what = f"{name}: operators' chat"
    variable = f"{name.upper()}_OPERATORS_CHAT_ID"
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, me.id)
    except TelegramMigrateToChat as error:
        return Check(what, Status.FAIL,
                     f"chat {chat_id} became a supergroup: set {variable}="
                     f"{error.migrate_to_chat_id}")
    except TelegramForbiddenError:
        return Check(what, Status.FAIL,
                     f"bot is not a member of chat {chat_id} (never added, or removed): add "
                     f"it as an administrator")
    except TelegramBadRequest as error:
        if "not found" in error.message.lower():
            return Check(what, Status.FAIL,
                         f"chat {chat_id} not found: check {variable} and that the bot was "
                         f"added to the chat")
        return Check(what, Status.FAIL, f"chat {chat_id}: {error.message}")
    except TelegramNetworkError as error:
        return Check(what, Status.FAIL, _network_problem(error, api_url))
    except AiogramError as error:
        return Check(what, Status.FAIL, f"chat {chat_id}: {type(error).__name__}: {error}")

    title = f"«{chat.title}»" if chat.title else str(chat_id)
    if chat.type not in ("group", "supergroup"):
        return Check(what, Status.FAIL,
                     f"chat {chat_id} is a {chat.type} chat, not a group: set {variable} to "
                     f"the operators' supergroup")
    kind = "forum" if chat.is_forum else chat.type
    if member.status in ("left", "kicked"):
        return Check(what, Status.FAIL,
                     f"{kind} {title}: bot is not a member ({member.status}): add it as an "
                     f"administrator")
    if member.status not in ("administrator", "creator"):
        if me.can_read_all_group_messages:
            problem = "bot is not an admin (privacy mode is off, so it sees operators' replies)"
        else:
            problem = ("bot is not an admin: it will not see operators' replies unless privacy "
                       "mode is off (it is on)")
        if chat.is_forum:
            problem += "; it cannot create topics either, tickets go as cards"
        return Check(what, Status.WARNING, f"{kind} {title}: {problem}")
    if chat.is_forum and not getattr(member, "can_manage_topics", True):
        return Check(what, Status.WARNING,
                     f"forum {title}: bot may not manage topics: tickets go as cards, not one "
                     f"topic per citizen (give it the 'Manage topics' right)")
    mode = "one topic per ticket" if chat.is_forum else "a card per ticket"
    return Check(what, Status.OK, f"{kind} {title}: bot is an administrator; {mode}")


async def check_bot(session: AiohttpSession, settings: Settings, name: str,
                    token: SecretStr, duplicate_of: str | None) -> list[Check]:
    what = f"{name}: token"
    if duplicate_of is not None:
        return [Check(what, Status.FAIL,
                      f"same token as {duplicate_of}: each bot needs its own "
                      f"({name.upper()}_BOT_TOKEN)")]
    try:
        bot = Bot(token.get_secret_value(), session=session)
    except TokenValidationError:
        return [Check(what, Status.FAIL,
                      f"{name.upper()}_BOT_TOKEN is malformed (expected <digits>:<secret>, "
                      f"as @BotFather gives it)")]
    token_check, me = await check_token(bot, name, settings.telegram_api_url)
    checks = [token_check]
    try:
        chat_id = settings.operators_chat_id(name)
    except ValueError:
        return checks  # reported under settings
    if me is None:
        return checks
    if chat_id is None:
        checks.append(Check(f"{name}: operators' chat", Status.OK,
                            f"not set ({name.upper()}_OPERATORS_CHAT_ID): no operator queue, "
                            f"unanswered questions are only recorded"))
    else:
        checks.append(await check_operators_chat(bot, me, name, chat_id,
                                                 settings.telegram_api_url))
    return checks


# --- the report ----------------------------------------------------------------------------


async def check(settings: Settings) -> HealthReport:
    """Every check for ``settings``; changes nothing anywhere."""
    report = HealthReport()
    names = discover(settings.bots_dir)
    settings_checks = bot_settings(settings, names)
    url_problem = api_url_problem(settings.telegram_api_url)
    if url_problem:
        settings_checks.append(Check("settings", Status.FAIL, url_problem))
    if not names:
        settings_checks.append(Check("settings", Status.FAIL,
                                     f"no bot folder (with a faq.yaml) in {settings.bots_dir}"))
    report.extend(settings_checks or [Check(
        "settings", Status.OK,
        f"parsed; bots in {settings.bots_dir}: {', '.join(names)}; Bot API "
        f"{settings.telegram_api_url}")])

    content = asyncio.gather(
        asyncio.to_thread(load_smalltalk, settings.bots_dir),
        *(asyncio.to_thread(load_content, settings.bots_dir, n) for n in names))
    database = asyncio.ensure_future(check_database(settings.database_url))
    matching = asyncio.ensure_future(asyncio.to_thread(check_matching, settings, names))

    tokens = {name: settings.bot_token(name) for name in names}
    telegram: list[list[Check]] = []
    if url_problem is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url),
                                 timeout=API_TIMEOUT)
        try:
            seen: dict[str, str] = {}
            jobs = []
            for name, token in tokens.items():
                if token is None:
                    continue
                secret = token.get_secret_value()
                jobs.append(check_bot(session, settings, name, token, seen.get(secret)))
                seen.setdefault(secret, name)
            telegram = list(await asyncio.gather(*jobs))
        finally:
            await session.close()

    smalltalk, *bot_content = await content
    report.add(smalltalk.what, smalltalk.status, smalltalk.message)
    report.extend(await database)
    report.extend([await matching])
    by_bot = iter(telegram)
    for name, loaded in zip(names, bot_content, strict=True):
        report.extend([loaded])
        if tokens[name] is None:
            report.add(f"{name}: token", Status.WARNING,
                       f"{name.upper()}_BOT_TOKEN is not set: this bot is skipped")
        elif url_problem is None:
            report.extend(next(by_bot))
    if names and not any(tokens.values()):
        report.add("bots", Status.FAIL,
                   "no bot has a token: set "
                   + " or ".join(f"{n.upper()}_BOT_TOKEN" for n in names))
    return report.redacted(t.get_secret_value() for t in tokens.values() if t is not None)


def run_check(make_settings: Callable[[], Settings] = Settings,
              out: TextIO | None = None) -> int:
    """Read the settings, run :func:`check`, print the report; the exit code (0 or 1)."""
    stream = out or sys.stdout
    try:
        settings = make_settings()
    except ValidationError as error:
        report = settings_failures(error)
        report.add("other checks", Status.WARNING, "skipped until the settings are fixed")
    else:
        report = asyncio.run(check(settings))
    print(report.render(), file=stream)
    return report.exit_code
