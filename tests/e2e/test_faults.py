"""Fault injection against the real ``python bot.py`` (both bots), each test ending with the
"nothing lost" check: every question the test asked got its answer (or is an open ticket the
operators see), and duplicates happen only where a send's outcome was unknowable — and then
are recorded as such in the outbox.

Scenarios are listed, with what they inject and assert, in docs/reliability.md.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from escalation.delivery import SHORTER_LIMIT
from tests.e2e.conftest import (
    PAYMENTS_TOKEN,
    VACCINATION_TOKEN,
    copy_bot_content,
    sqlite_rows,
    start_both,
)
from tests.e2e.helpers import (
    PAYMENTS_ANSWERED,
    PAYMENTS_FAQ,
    bot_lifetime,
    faq_answers,
    payments_env,
    payments_with_operators,
)
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator
from tests.rates import assert_rate

pytestmark = pytest.mark.e2e

OFF_TOPIC = next(q for q in ("Сломался светофор на перекрёстке",
                             "Отключили горячую воду без предупреждения",
                             "Когда починят лифт в подъезде")
                 if PAYMENTS_FAQ.match(q).decision == "escalate")
CLIENT_TIMEOUT = 2.0


@dataclass
class Run:
    emu: Emulator
    proc: BotProcess
    env: dict[str, str]
    payments: Any
    vaccination: Any
    operators: Any
    operator: Any
    users: Iterator[int]
    questions: Iterator[str]

    def citizen(self) -> Any:
        return self.emu.add_user(first_name=f"Житель {next(self.users)}")

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return sqlite_rows(self.env["DATABASE_URL"], sql, *args)

    def restart(self, *, kill: bool = False) -> None:
        if kill:
            self.proc.proc.kill()
            self.proc.wait()
        else:
            assert self.proc.stop() == 0, self.proc.output
        self.proc = start_both(self.env)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    assert len(PAYMENTS_ANSWERED) >= 5, "the payments FAQ no longer answers its own questions"
    emu = Emulator().start()
    tmp = tmp_path_factory.mktemp("faults")
    bots_dir = copy_bot_content(tmp / "bots")
    payments, operator, operators = payments_with_operators(emu)
    vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    env = payments_env(emu, tmp, bots_dir, operators) | {
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "TELEGRAM_TIMEOUT": str(CLIENT_TIMEOUT),
        "FLOOD_MESSAGES": "50",
        "GROUP_RATE_WINDOW": "3",
        "POLLING_TIMEOUT": "1",
    }
    state = Run(emu, start_both(env), env, payments, vaccination, operators, operator,
                itertools.count(1), itertools.cycle(PAYMENTS_ANSWERED))
    with bot_lifetime(emu, state):
        yield state
    assert PAYMENTS_TOKEN not in state.proc.output


# --- helpers -------------------------------------------------------------------------------------

def replies(r: Run, user: Any, bot: Any | None = None) -> list[dict[str, Any]]:
    return r.emu.messages(user.id, bot=bot or r.payments)


def answers_to(r: Run, user: Any, question: str) -> list[dict[str, Any]]:
    return faq_answers(r.emu, user, r.payments, question)


def ask_and_wait(r: Run, user: Any, question: str | None = None,
                 timeout: float = 30) -> tuple[str, dict[str, Any]]:
    question = question or next(r.questions)
    r.emu.send_text(r.payments, user, question)
    r.emu.wait_for(lambda: answers_to(r, user, question), timeout=timeout)
    return question, answers_to(r, user, question)[0]


def marked_duplicate(r: Run, chat_id: int, message_id: int) -> bool:
    """Whether the outbox row that sent ``message_id`` to ``chat_id`` is marked as a possible
    duplicate."""
    deadline = time.monotonic() + 10  # the row is settled just after Telegram answered
    while True:
        rows = r.db("SELECT message_ids, maybe_duplicate FROM outbox WHERE chat_id = ?",
                    chat_id)
        sent_it = [bool(marked) for ids, marked in rows if message_id in json.loads(ids or "[]")]
        if sent_it or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(sent_it) == 1, (message_id, rows)
    return sent_it[0]


def nothing_lost(r: Run, asked: list[tuple[Any, str]], *, duplicates_allowed: int = 0) -> None:
    """Each (citizen, question) got its answer once; a second copy only where the outbox row
    that sent it is marked as a possible duplicate (each copy checked on its own row)."""
    for user, question in asked:
        got = answers_to(r, user, question)
        assert got, f"{question!r} was never answered"
        assert len(got) <= 1 + duplicates_allowed, (question, len(got))
        for again in got[1:]:
            assert marked_duplicate(r, user.id, again["message_id"]), (question, again)


# --- transport faults ----------------------------------------------------------------------------

def test_flood_control_429_is_waited_out(run: Run) -> None:
    user = run.citizen()
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, status=429,
                         retry_after=1, times=2)
    started = time.monotonic()
    question, _ = ask_and_wait(run, user)
    assert time.monotonic() - started >= 2.0  # waited retry_after twice
    nothing_lost(run, [(user, question)])


@pytest.mark.parametrize("fault", [
    {"status": 500, "description": "Internal Server Error", "times": 2},
    {"status": 502, "description": "Bad Gateway", "times": 1},
    {"status": 502, "html_body": "<html><body>502 Bad Gateway</body></html>", "times": 2},
], ids=["500-json", "502-json", "502-html"])
def test_server_errors_are_retried(run: Run, fault: dict[str, Any]) -> None:
    user = run.citizen()
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, **fault)
    question, _ = ask_and_wait(run, user)
    nothing_lost(run, [(user, question)])


def test_bot_api_down_for_a_while(run: Run) -> None:
    users = [run.citizen() for _ in range(3)]
    run.emu.stop_accepting(10.0)
    asked = []
    for user in users:
        question = next(run.questions)
        run.emu.send_text(run.payments, user, question)  # queued while the server is down
        asked.append((user, question))
    run.emu.wait_for(lambda: all(answers_to(run, u, q) for u, q in asked), timeout=60)
    nothing_lost(run, asked)


def test_timeout_after_telegram_stored_the_message(run: Run) -> None:
    user = run.citizen()
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id,
                         delay=CLIENT_TIMEOUT + 1, after_commit=True, times=1)
    question, _ = ask_and_wait(run, user)
    # The request timed out although Telegram stored the message: the retry duplicates it,
    # and the outbox says so.
    run.emu.wait_for(lambda: len(answers_to(run, user, question)) >= 2, timeout=30)
    run.emu.wait_for(
        lambda: run.db("SELECT COUNT(*) FROM outbox WHERE maybe_duplicate = 1")[0][0] >= 1,
        timeout=10)
    assert len(answers_to(run, user, question)) == 2
    nothing_lost(run, [(user, question)], duplicates_allowed=1)


def test_too_long_and_reply_not_found_are_adapted(run: Run) -> None:
    user = run.citizen()
    question = next(run.questions)
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, status=400,
                         description="Bad Request: message is too long", times=1)
    run.emu.send_text(run.payments, user, question)
    run.emu.wait_for(lambda: answers_to(run, user, question), timeout=30)
    nothing_lost(run, [(user, question)])

    # An operator notice that replies to a deleted message goes without the reply link.
    citizen = run.citizen()
    run.emu.send_text(run.payments, citizen, OFF_TOPIC)
    card = run.emu.wait_for_message(run.operators, contains="Обращение №", timeout=30,
                                    after=len(run.emu.messages(run.operators)))
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=run.operators.id, status=400,
                         description="Bad Request: message to be replied not found", times=1)
    before = len(run.emu.messages(run.operators))
    run.emu.send_text(run.payments, run.operator, "Ответ оператора", chat=run.operators,
                      reply_to=card)
    run.emu.wait_for_message(run.operators, contains="Доставлено", after=before, timeout=30)
    assert any(m.get("text") == "Ответ оператора" for m in replies(run, citizen))


def test_too_long_refusal_resends_every_part_once_in_order(run: Run) -> None:
    """A long answer refused as too long is sent again in smaller parts: every part arrives,
    once, in order, each under the smaller limit."""
    path = Path(run.env["BOTS_DIR"]) / "payments/faq.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    points = [f"Пункт {n:03d}: подробное разъяснение порядка назначения выплаты."
              for n in range(1, 91)]  # ~5 800 characters: two parts, or three short ones
    question = "Тестовая памятка о порядке назначения выплат на слонят"
    data["entries"].append({"id": "zz-long-memo", "question": question,
                            "answer": " ".join(points)})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run.proc.wait_for_output("payments/faq.yaml reloaded")
    user = run.citizen()
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, status=400,
                         description="Bad Request: message is too long", times=1)
    run.emu.send_text(run.payments, user, question)

    def numbers() -> list[int]:
        return [int(n) for m in replies(run, user)
                for n in re.findall(r"Пункт (\d{3})", m.get("text") or "")]

    run.emu.wait_for(lambda: len(numbers()) >= len(points), timeout=30)
    parts = [m["text"] for m in replies(run, user) if "Пункт" in (m.get("text") or "")]
    assert numbers() == list(range(1, len(points) + 1))
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= SHORTER_LIMIT for p in parts), parts


def test_duplicate_update_is_handled_once(run: Run) -> None:
    user = run.citizen()
    question, _ = ask_and_wait(run, user)
    update_id = next(u["update_id"] for u in reversed(run.emu.updates(run.payments))
                     if u.get("message", {}).get("text") == question)
    run.emu.redeliver(run.payments, update_id)
    # A later message is answered only after the redelivered one was seen (same chat, order).
    later, _ = ask_and_wait(run, user)
    nothing_lost(run, [(user, question), (user, later)])
    assert run.db("SELECT COUNT(*) FROM inbox WHERE update_id = ?", update_id) == [(1,)]


def test_unknown_update_types_and_fields_do_not_stop_the_bot(run: Run) -> None:
    user = run.citizen()
    run.emu.inject_update(run.payments, {"future_update": {"id": 1, "what": "new"}})
    message = {"message_id": 999_001, "date": int(time.time()),
               "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
               "from": {"id": user.id, "is_bot": False, "first_name": user.first_name},
               "text": "/start", "brand_new_field": {"x": 1}}
    run.emu.inject_update(run.payments, {"message": message})
    question, _ = ask_and_wait(run, user)
    nothing_lost(run, [(user, question)])


def test_html_and_markdown_in_citizen_text_stay_literal(run: Run) -> None:
    user = run.citizen()
    text = ('Сломался светофор <b>срочно</b> <a href="https://evil.example">жми</a> '
            "*жирный* _курсив_ `код` & <script>alert(1)</script>")
    assert PAYMENTS_FAQ.match(text).decision == "escalate"
    before = len(run.emu.messages(run.operators))
    run.emu.send_text(run.payments, user, text)
    card = run.emu.wait_for_message(run.operators, contains="<b>срочно</b>", after=before,
                                    timeout=30)
    assert '<a href="https://evil.example">жми</a>' in card["text"]
    assert "<script>alert(1)</script>" in card["text"]
    assert not any(e.get("type") in ("bold", "text_link") for e in card.get("entities", []))
    sent = [c for c in run.emu.calls(run.payments) if c.method in ("sendMessage",
                                                                    "editMessageText")]
    assert all(not c.params.get("parse_mode") for c in sent)


# --- process faults ------------------------------------------------------------------------------

def test_kill_9_mid_handler_then_restart_answers_once(run: Run) -> None:
    user = run.citizen()
    question = next(run.questions)
    fault = run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, delay=30,
                                 drop_connection=True, times=1)
    after = run.emu.last_seq
    run.emu.send_text(run.payments, user, question)
    run.emu.wait_for_call("sendMessage", bot=run.payments, finished=False, after=after,
                          where=lambda c: c.params.get("chat_id") in (user.id, str(user.id)),
                          timeout=30)
    run.restart(kill=True)  # the request never reached the "store" step
    fault.cancel()
    run.emu.wait_for(lambda: answers_to(run, user, question), timeout=60)
    nothing_lost(run, [(user, question)])


def test_kill_9_mid_delivery_duplicate_is_recorded(run: Run) -> None:
    user = run.citizen()
    question = next(run.questions)
    fault = run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, delay=30,
                                 after_commit=True, times=1)
    run.emu.send_text(run.payments, user, question)
    run.emu.wait_for(lambda: answers_to(run, user, question), timeout=30)  # stored, no answer
    run.restart(kill=True)
    fault.cancel()
    run.emu.wait_for(lambda: len(answers_to(run, user, question)) >= 2, timeout=60)
    _, again = answers_to(run, user, question)
    assert marked_duplicate(run, user.id, again["message_id"])
    nothing_lost(run, [(user, question)], duplicates_allowed=1)


def test_sigterm_lets_work_in_flight_finish(run: Run) -> None:
    user = run.citizen()
    question = next(run.questions)
    run.emu.inject_fault("sendMessage", bot=run.payments, chat_id=user.id, delay=1.5, times=1)
    after = run.emu.last_seq
    run.emu.send_text(run.payments, user, question)
    run.emu.wait_for_call("sendMessage", bot=run.payments, finished=False, after=after,
                          timeout=30)
    run.restart()  # SIGTERM: the reply in flight is finished before the process exits
    run.emu.wait_for(lambda: answers_to(run, user, question), timeout=30)
    nothing_lost(run, [(user, question)])


def test_burst_to_500_citizens_keeps_telegram_limits(run: Run) -> None:
    run.emu.set_strict_rates(True)
    try:
        users = [run.citizen() for _ in range(500)]
        asked = [(u, next(run.questions)) for u in users]
        threads = [threading.Thread(target=run.emu.send_text, args=(run.payments, u, q))
                   for u, q in asked]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.emu.wait_for(lambda: all(answers_to(run, u, q) for u, q in asked), timeout=180)
        assert_rate(run.emu, bot=run.payments, limit=30, window=1.0)
        for user in users:
            assert_rate(run.emu, bot=run.payments, chat_id=user.id, limit=3, window=1.0)
        nothing_lost(run, asked)
    finally:
        run.emu.set_strict_rates(False)


def test_operators_group_upgraded_to_supergroup(run: Run) -> None:
    basic = run.emu.add_group("Операторы (обычная группа)", supergroup=False,
                              members={run.operator.id: "administrator"}, bots=[run.payments])
    original = run.env["PAYMENTS_OPERATORS_CHAT_ID"]
    run.env["PAYMENTS_OPERATORS_CHAT_ID"] = str(basic.id)
    run.restart()
    try:
        upgraded = run.emu.migrate_group(basic)
        citizen = run.citizen()
        run.emu.send_text(run.payments, citizen, OFF_TOPIC)
        card = run.emu.wait_for_message(upgraded, contains="Обращение №", timeout=30)
        run.emu.send_text(run.payments, run.operator, "Ответ из новой супергруппы",
                          chat=upgraded, reply_to=card)
        run.emu.wait_for(lambda: any(m.get("text") == "Ответ из новой супергруппы"
                                     for m in replies(run, citizen)), timeout=30)
        # After a restart the new id is used straight away, although the setting is old.
        run.restart()
        after = run.emu.last_seq
        other = run.citizen()
        run.emu.send_text(run.payments, other, OFF_TOPIC)
        run.emu.wait_for(lambda: len(run.emu.messages(upgraded)) >= 2 and any(
            "Обращение №" in (m.get("text") or "") for m in run.emu.messages(upgraded)[1:]),
            timeout=30)
        tried_old = [c for c in run.emu.calls(run.payments, "sendMessage")
                     if c.seq > after and str(c.params.get("chat_id")) == str(basic.id)]
        assert not tried_old
    finally:
        run.env["PAYMENTS_OPERATORS_CHAT_ID"] = original
        run.restart()


# --- bot-level faults (last: they change the running bots) ---------------------------------------

def test_conflict_409_is_reported_loudly(run: Run) -> None:
    run.emu.inject_fault("getUpdates", bot=run.payments, status=409,
                         description="Conflict: terminated by other getUpdates request; make "
                         "sure that only one bot instance is running", times=2)
    run.proc.wait_for_output("CONFLICT", timeout=30)
    user = run.citizen()
    question, _ = ask_and_wait(run, user, timeout=60)
    nothing_lost(run, [(user, question)])


def test_revoked_token_stops_only_that_bot(run: Run) -> None:
    run.emu.inject_fault("getUpdates", bot=run.vaccination, status=401,
                         description="Unauthorized", times=None)
    run.proc.wait_for_output("bot vaccination stopped", timeout=30)
    user = run.citizen()
    question, _ = ask_and_wait(run, user)
    nothing_lost(run, [(user, question)])
    run.emu.clear_faults()
    run.restart()


def test_delivery_path_and_scenarios_are_documented() -> None:
    report = (Path(ROOT) / "docs/reliability.md").read_text(encoding="utf-8")
    names = [name for name in globals() if name.startswith("test_") and name != (
        "test_delivery_path_and_scenarios_are_documented")]
    missing = [name for name in names if name not in report]
    assert not missing, f"docs/reliability.md does not describe: {missing}"
