"""``python bot.py --check``: is this installation ready to run? A report for the admin.

Checks, in order: settings (environment and ``.env``), shared content, the database and its
migrations, the matching (the sentence encoder loads; how much of the FAQs the embedding
cache lacks), then per bot folder its content (texts, ``queue.yaml``, FAQ), its token (getMe)
and its operators' chat (getChat, getChatMember). Nothing is changed: the database is not
created nor upgraded, nothing is encoded nor cached, no message is sent. Each check is
``ok``, ``warning`` (it runs, but probably not as intended) or ``fail`` (it will not run, or
not that part); the exit code is 1 when anything failed. Tokens and database passwords never
appear in the report. The report itself is :mod:`bots.health_report`; the Telegram checks are
:mod:`bots.health_telegram`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import make_url, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bots.health_report import Check, HealthReport, Status
from bots.health_telegram import check_bot
from bots.settings import Settings
from bots.smalltalk import SmallTalk, SmallTalkError
from bots.topic import FAQ_FILE, Topic, discover
from escalation.db import alembic_config, sqlite_file
from escalation.inbox import storage_reason
from faq import FaqError, FaqFile, load_faq
from faq.config import HybridConfig
from faq.embeddings import cache_file, missing
from faq.encoder import Encoder, load_encoder
from faq.semantic import embedded_texts

__all__ = ["Check", "HealthReport", "Status", "check", "check_database", "run_check"]

#: Seconds to wait for the database server to accept a connection.
DB_CONNECT_TIMEOUT: Final = 5.0
#: Seconds for one Bot API request.
API_TIMEOUT: Final = 10.0
#: FAQ problems quoted in a report line; the rest are counted.
SHOWN_PROBLEMS: Final = 1


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
    if not current:  # an empty database: the first start creates the schema
        return Check("migrations", Status.WARNING,
                     f"not initialised: no schema revision, head is {head}; the first start "
                     f"creates it ({_upgrade_hint()})")
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


async def _refuses_writes(connection: AsyncConnection) -> str | None:
    """Why the database refuses a write (read-only file, full disk), or None: one row is
    rewritten unchanged and rolled back."""
    try:
        await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except Exception as error:
        return storage_reason(error)
    finally:
        await connection.rollback()
    return None


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

    path = sqlite_file(url)
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
            refused = await _refuses_writes(connection) if current else None
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
    if refused is not None:
        return [Check("database", Status.FAIL,
                      f"{shown}{where} reachable, but refuses writes ({refused}): incoming "
                      f"updates cannot be stored — free disk space or fix file permissions"),
                migration_check(current, script, head)]
    return [Check("database", Status.OK, f"{shown}{where} reachable"),
            migration_check(current, script, head)]


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
