"""Start-up: one broken bot never stops the others; without the sentence encoder the bots
match by words and say so once; console chat and editors' report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faq import FaqFile, load_faq
from tests.e2e.conftest import PAYMENTS_TOKEN, VACCINATION_TOKEN, base_env, copy_bot_content
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import BotAccount, Emulator
from tests.semantic import EMBEDDING_CACHE

pytestmark = pytest.mark.e2e

PAYMENTS_FAQ = load_faq(ROOT / "bots/payments/faq.yaml")
VACCINATION_FAQ = load_faq(ROOT / "bots/vaccination/faq.yaml")
#: No ``<digits>:`` in front: aiogram refuses it before asking Telegram. Random letters, so
#: that any piece of it found in the log can only have come from the token.
MALFORMED_TOKEN = "Qx7vLp9ZrW4kTd2N"
CONSOLE_ENV = {"PATH": "/usr/bin:/bin", "FAQ_EMBEDDING_CACHE": str(EMBEDDING_CACHE)}


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


def _answers(emu: Emulator, bot: BotAccount, faq: FaqFile) -> None:
    user = emu.add_user(first_name="Проверка")
    entry = faq.entries[0]
    emu.send_text(bot, user, entry.question)
    emu.wait_for(lambda: any(entry.answer.strip()[:40] in m["text"]
                             for m in emu.messages(user.id, bot=bot)), timeout=15)


def _answers_payments(emu: Emulator, proc: BotProcess) -> None:
    _answers(emu, emu.bot(PAYMENTS_TOKEN), PAYMENTS_FAQ)


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


def pieces_of(secret: str, text: str, size: int = 5) -> list[str]:
    """Every ``size``-character piece of ``secret`` that ``text`` contains."""
    return [secret[i:i + size] for i in range(len(secret) - size + 1)
            if secret[i:i + size] in text]


def test_malformed_token_stops_only_that_bot_and_is_never_printed(
        emu: Emulator, tmp_path: Path) -> None:
    env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN, "VACCINATION_BOT_TOKEN": MALFORMED_TOKEN}
    proc = BotProcess(env)
    try:
        line = proc.wait_for_output("bot vaccination not started")
        assert " ERROR " in line
        assert "VACCINATION_BOT_TOKEN is malformed" in line
        proc.wait_for_output("bot payments runs as @payments_test_bot")
        _answers_payments(emu, proc)
        assert proc.proc.poll() is None, proc.output
    finally:
        assert proc.stop() == 0, proc.output
    assert "Traceback" not in proc.output
    assert pieces_of(MALFORMED_TOKEN, proc.output) == [], proc.output
    assert PAYMENTS_TOKEN not in proc.output


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


def test_without_the_encoder_both_bots_answer_by_words_and_say_so_once(tmp_path: Path) -> None:
    with Emulator() as emu:
        payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
        vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
        env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
            "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN, "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
            "FAQ_ENCODER_FAIL": "model file damaged"}
        proc = BotProcess(env)
        try:
            proc.wait_for_output("bot payments runs as @payments_test_bot")
            proc.wait_for_output("bot vaccination runs as @vaccination_test_bot")
            _answers(emu, payments, PAYMENTS_FAQ)
            _answers(emu, vaccination, VACCINATION_FAQ)
        finally:
            assert proc.stop() == 0
        emu.assert_no_violations()
    about_it = [line for line in proc.output.splitlines()
                if "model file damaged" in line or "semantic" in line.lower()]
    assert len(about_it) == 1, proc.output
    assert " WARNING " in about_it[0]
    assert "the bots match by words only" in about_it[0]
    assert "Traceback" not in proc.output


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
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", **CONSOLE_ENV}
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
        env={"DATABASE_URL": db, **CONSOLE_ENV}, cwd=tmp_path, timeout=60, check=True,
    )
    report = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "unanswered", "--bot", "payments", "--days", "1"],
        capture_output=True, text=True, encoding="utf-8", env={"DATABASE_URL": db, **CONSOLE_ENV},
        cwd=tmp_path, timeout=60, check=True,
    ).stdout
    assert "вопросов без ответа" in report
    groups = [block for block in report.split("\n\n") if block.startswith("[")]
    # The maternity-capital questions (another fund's topic) form the biggest group and come
    # first; the neighbours (unanswered, or sent to the right service) are not mixed in.
    biggest = groups[0]
    assert int(biggest[1:biggest.index("]")]) >= 2, report
    assert "капитал" in biggest, report
    assert "соседей" not in biggest, report




@pytest.mark.parametrize(("settings", "said"), [
    ({"WEBHOOK_LISTEN": "127.0.0.1:0"}, "WEBHOOK_SECRET is not"),
    ({"WEBHOOK_LISTEN": "localhost", "WEBHOOK_SECRET": "s3cret-value"},
     "WEBHOOK_LISTEN must be host:port"),
])
def test_webhook_mode_without_what_it_needs_does_not_start(
        emu: Emulator, tmp_path: Path, settings: dict[str, str], said: str) -> None:
    env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN} | settings
    proc = BotProcess(env)
    assert proc.wait(timeout=60) == 2, proc.output
    assert said in proc.output
    assert "Traceback" not in proc.output
    assert "s3cret-value" not in proc.output
