"""Start-up: one broken bot never stops the others; console chat and editors' report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faq import load_faq
from tests.e2e.conftest import PAYMENTS_TOKEN, VACCINATION_TOKEN, base_env, copy_bot_content
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

PAYMENTS_FAQ = load_faq(ROOT / "bots/payments/faq.yaml")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    emulator.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    try:
        yield emulator
        emulator.assert_no_violations()
    finally:
        emulator.stop()


def _answers_payments(emu: Emulator, proc: BotProcess) -> None:
    bot = emu.bot(PAYMENTS_TOKEN)
    user = emu.add_user(first_name="Проверка")
    entry = PAYMENTS_FAQ.entries[0]
    emu.send_text(bot, user, entry.question)
    emu.wait_for(lambda: any(entry.answer.strip()[:40] in m["text"]
                             for m in emu.messages(user.id, bot=bot)), timeout=15)


def test_rejected_token_stops_only_that_bot(emu: Emulator, tmp_path: Path) -> None:
    # The emulator knows no bot with VACCINATION_TOKEN: it answers 401 like Telegram.
    env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN, "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN}
    proc = BotProcess(env)
    try:
        proc.wait_for_output("bot vaccination not started: Telegram rejected its token")
        proc.wait_for_output("bot payments runs as @payments_test_bot")
        _answers_payments(emu, proc)
    finally:
        assert proc.stop() == 0
    assert VACCINATION_TOKEN not in proc.output


def test_broken_faq_stops_only_that_bot(emu: Emulator, tmp_path: Path) -> None:
    bots_dir = copy_bot_content(tmp_path / "bots")
    faq_path = bots_dir / "vaccination/faq.yaml"
    faq_path.write_text(faq_path.read_text(encoding="utf-8").replace(
        "question:", "qestion:", 1), encoding="utf-8")
    env = base_env(emu, tmp_path, bots_dir) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN, "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN}
    proc = BotProcess(env)
    try:
        proc.wait_for_output("bot vaccination not started: its FAQ is broken")
        line = proc.wait_for_output("qestion")
        assert "vaccination/faq.yaml:" in line  # file and line for the editor
        proc.wait_for_output("bot payments runs as @payments_test_bot")
        _answers_payments(emu, proc)
    finally:
        assert proc.stop() == 0


def test_no_bot_can_start_is_a_clear_failure(emu: Emulator, tmp_path: Path) -> None:
    env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN}
    proc = BotProcess(env)
    assert proc.wait() == 1
    assert "bot payments skipped: PAYMENTS_BOT_TOKEN is not set" in proc.output
    assert "no bot could start" in proc.output


def test_broken_small_talk_list_stops_with_the_file_and_the_reason(
        emu: Emulator, tmp_path: Path) -> None:
    bots_dir = copy_bot_content(tmp_path / "bots")
    (bots_dir / "smalltalk.yaml").write_text("greetings: привет\n", encoding="utf-8")
    env = base_env(emu, tmp_path, bots_dir) | {"PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN}
    proc = BotProcess(env)
    assert proc.wait() == 1
    assert "smalltalk.yaml: «greetings» должен быть списком фраз" in proc.output
    assert "Traceback" not in proc.output


def test_console_chat_answers_and_presses_buttons(tmp_path: Path) -> None:
    entry = PAYMENTS_FAQ.entries[0]
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # the README's first command ends in exactly this
        [sys.executable, str(ROOT / "bot.py")],
        input=f"{entry.question}\n1\nпривет\n", capture_output=True, text=True,
        encoding="utf-8", env=env, cwd=tmp_path, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Чат с ботом" in out
    assert "[1] 📚 Вопросы по темам" in out  # /start menu as numbered choices
    assert entry.answer.strip()[:40] in out
    assert "Спасибо за оценку" in out  # "1" pressed 👍 under the answer
    assert "Здравствуйте! Напишите ваш вопрос" in out


def test_unanswered_report_groups_what_the_bot_could_not_answer(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    questions = ["Как оформить материнский капитал?", "как оформить маткапитал",
                 "Как получить материнский капитал на второго ребенка",
                 "Куда жаловаться на соседей?"]
    subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--console", "--bot", "payments"],
        input="\n".join(questions) + "\n", capture_output=True, text=True, encoding="utf-8",
        env={"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}, cwd=tmp_path, timeout=60,
        check=True,
    )
    report = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "unanswered", "--bot", "payments", "--days", "1"],
        capture_output=True, text=True, encoding="utf-8", env={"DATABASE_URL": db,
                                                               "PATH": "/usr/bin:/bin"},
        cwd=tmp_path, timeout=60, check=True,
    ).stdout
    assert "вопросов без ответа" in report
    lines = report.splitlines()
    first_group = next(i for i, line in enumerate(lines) if line.startswith("["))
    # The three maternity-capital questions form the biggest group and come first.
    assert lines[first_group].startswith("[3]")
    assert "соседей" in report


