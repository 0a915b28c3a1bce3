"""A citizen's whole conversation with the real bot process, both bots at once."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from faq import load_faq
from tests.e2e.conftest import Running
from tests.e2e.helpers import buttons
from tests.e2e.process import ROOT
from tests.semantic import shipped_matcher

pytestmark = pytest.mark.e2e

PAYMENTS_FAQ = load_faq(ROOT / "bots/payments/faq.yaml")
VACCINATION_FAQ = load_faq(ROOT / "bots/vaccination/faq.yaml")


# --- helpers: the only place that knows the emulator's driver API ---------------------------

def received(run: Running, bot: Any, user: Any) -> list[dict[str, Any]]:
    return run.emu.messages(user.id, bot=bot)


def wait_replies(
    run: Running, bot: Any, user: Any, before: int, count: int = 1
) -> list[dict[str, Any]]:
    run.emu.wait_for(lambda: len(received(run, bot, user)) >= before + count, timeout=15)
    return received(run, bot, user)[before:]


def say(run: Running, bot: Any, user: Any, text: str, count: int = 1) -> list[dict[str, Any]]:
    before = len(received(run, bot, user))
    run.emu.send_text(bot, user, text)
    return wait_replies(run, bot, user, before, count)


def press(run: Running, bot: Any, user: Any, message: dict[str, Any], label: str,
          count: int = 1) -> list[dict[str, Any]]:
    """Press the button whose label contains ``label``; wait for ``count`` new messages."""
    data = next(d for t, d in buttons(message) if label in t)
    before = len(received(run, bot, user))
    query_id = run.emu.press_button(bot, user, message, data)
    run.emu.wait_for(lambda: run.emu.callback_answered(query_id), timeout=15)
    if count == 0:
        return []
    return wait_replies(run, bot, user, before, count)


def db_rows(run: Running, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    path = run.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


# --- tests -----------------------------------------------------------------------------------

def test_start_greets_with_topic_and_menu(running: Running) -> None:
    user = running.new_user()
    [reply] = say(running, running.payments, user, "/start")
    assert "выплат" in reply["text"]
    assert "Госуслуги" in reply["text"]
    labels = [t for t, _ in buttons(reply)]
    assert any("темам" in t for t in labels)
    assert any("специалист" in t for t in labels)


def test_browse_categories_questions_answer_and_back(running: Running) -> None:
    user = running.new_user()
    [menu] = say(running, running.payments, user, "/start")
    [cats] = press(running, running.payments, user, menu, "темам")
    categories = [t for t, _ in buttons(cats)]
    first_category = PAYMENTS_FAQ.entries[0].category
    assert first_category is not None
    assert first_category[:20] in " ".join(categories)
    # Categories are edited in place, so the reply is an edit of the same message.
    press(running, running.payments, user, cats, first_category[:20], count=0)
    running.emu.wait_for(lambda: any(
        PAYMENTS_FAQ.entries[0].question[:20] in t
        for t, _ in buttons(running.emu.message(cats["chat"]["id"], cats["message_id"],
                                                bot=running.payments))))
    listing = running.emu.message(cats["chat"]["id"], cats["message_id"], bot=running.payments)
    [answer] = press(running, running.payments, user, listing,
                     PAYMENTS_FAQ.entries[0].question[:20])
    assert PAYMENTS_FAQ.entries[0].answer.strip()[:50] in answer["text"]
    assert "Помог ли ответ?" in answer["text"]
    press(running, running.payments, user, listing, "Назад", count=0)
    running.emu.wait_for(lambda: any(first_category[:20] in t for t, _ in buttons(
        running.emu.message(cats["chat"]["id"], cats["message_id"], bot=running.payments))))


def test_question_answered_and_feedback_recorded(running: Running) -> None:
    user = running.new_user()
    entry = PAYMENTS_FAQ.entries[1]
    [answer] = say(running, running.payments, user, entry.question)
    assert entry.answer.strip()[:50] in answer["text"]
    assert [t for t, _ in buttons(answer)] == ["👍 Да", "👎 Нет"]
    [offer] = press(running, running.payments, user, answer, "👎")
    assert "специалист" in offer["text"]
    [recorded] = press(running, running.payments, user, offer, "специалист")
    assert "№" in recorded["text"]
    rows = db_rows(running, "select outcome, entry_id from questions where text = ?",
                   entry.question)
    assert rows == [("escalated", entry.id)]


def test_clarify_offers_options_and_a_person(running: Running) -> None:
    matcher = shipped_matcher("payments")  # the bot process matches with the same encoder
    dev = (ROOT / "tests/data/payments_dev.yaml").read_text(encoding="utf-8")
    questions = [q["q"] for q in yaml.safe_load(dev)["questions"]
                 if q["kind"] == "paraphrase"]  # on the bot's topic, in other words
    ambiguous = next((q for q in questions if matcher.match(q).decision == "clarify"), None)
    assert ambiguous is not None, "the dev set has no question the matcher finds ambiguous"
    expected = matcher.match(ambiguous).candidates[:3]
    user = running.new_user()
    [reply] = say(running, running.payments, user, ambiguous)
    labels = [t for t, _ in buttons(reply)]
    assert "Возможно" in reply["text"]
    assert len(labels) == len(expected) + 1
    assert labels[-1].startswith("Другое")
    [answer] = press(running, running.payments, user, reply, labels[0][:15])
    entries = {e.id: e for e in PAYMENTS_FAQ.entries}
    assert entries[expected[0].entry_id].answer.strip()[:40] in answer["text"]


def test_out_of_scope_question_is_recorded_not_answered(running: Running) -> None:
    user = running.new_user()
    question = "Как распорядиться материнским капиталом на покупку квартиры?"
    [reply] = say(running, running.payments, user, question)
    assert "Помог ли ответ?" not in reply["text"]  # never answered with a wrong entry
    [(decision,)] = db_rows(running, "select decision from questions where text = ?", question)
    assert decision in {"escalate", "clarify"}


def url_buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["url"]) for row in markup.get("inline_keyboard", []) for b in row
            if "url" in b]


@pytest.mark.parametrize(
    ("bot", "question", "other"),
    [("payments", "Можно получить медотвод от прививки", "vaccination_test_bot"),
     ("payments", "сколько стоит прививка от ковида", "vaccination_test_bot"),
     ("vaccination", "когда придёт единое пособие", "payments_test_bot")],
)
def test_question_for_the_other_bot_gets_a_pointer_with_a_link(
        running: Running, bot: str, question: str, other: str) -> None:
    user = running.new_user()
    [reply] = say(running, getattr(running, bot), user, question)
    assert f"@{other}" in reply["text"]
    assert "другой бот" in reply["text"]
    assert [url for _, url in url_buttons(reply)] == [f"https://t.me/{other}"]
    assert buttons(reply) == []  # no "did you mean" options
    assert db_rows(running, "select kind, outcome from questions where text = ?",
                   question) == [("redirect", f"redirected:{other.removesuffix('_test_bot')}")]


def test_another_bots_topic_word_gets_the_pointer(running: Running) -> None:
    user = running.new_user()
    [reply] = say(running, running.payments, user, "прививка")
    assert "@vaccination_test_bot" in reply["text"]
    assert url_buttons(reply) == [("➡️ Перейти в @vaccination_test_bot",
                                   "https://t.me/vaccination_test_bot")]


def test_a_bare_topic_word_opens_the_menu_and_is_not_unanswered(running: Running) -> None:
    user = running.new_user()
    [reply] = say(running, running.payments, user, "пособие")
    categories = {e.category for e in PAYMENTS_FAQ.entries}
    labels = [t for t, _ in buttons(reply)]
    assert labels
    assert set(labels) <= categories | {"Далее »"}
    assert "Помог ли ответ?" not in reply["text"]
    assert db_rows(running, "select kind, decision, outcome from questions where text = ?",
                   "пособие") == [("menu", None, "menu")]
    # Browsing goes on from there as from /start.
    press(running, running.payments, user, reply, labels[0], count=0)
    running.emu.wait_for(lambda: any(
        e.question[:20] in t for e in PAYMENTS_FAQ.entries for t, _ in buttons(
            running.emu.message(reply["chat"]["id"], reply["message_id"],
                                bot=running.payments))))


def test_a_section_word_opens_that_sections_questions(running: Running) -> None:
    user = running.new_user()
    [reply] = say(running, running.vaccination, user, "QR код")
    section = [e for e in VACCINATION_FAQ.entries if e.category == "Сертификаты и QR-коды"]
    assert "Сертификаты и QR-коды" in reply["text"]
    labels = " ".join(t for t, _ in buttons(reply))
    assert section[0].question[:20] in labels


def test_citizen_talks_to_both_bots(running: Running) -> None:
    user = running.new_user()
    vacc = VACCINATION_FAQ.entries[2]
    pay = PAYMENTS_FAQ.entries[2]
    [a] = say(running, running.vaccination, user, vacc.question)
    [b] = say(running, running.payments, user, pay.question)
    assert vacc.answer.strip()[:40] in a["text"]
    assert pay.answer.strip()[:40] in b["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Привет!", "Здравствуйте"), ("спасибо большое", "Пожалуйста"), ("ок", "Хорошо"),
     ("понятно", "Хорошо"), ("да вы там все дебилы", "не рассматриваются")],
)
def test_small_talk_and_abuse_get_short_replies(running: Running, text: str,
                                                 expected: str) -> None:
    user = running.new_user()
    [reply] = say(running, running.vaccination, user, text)
    assert expected in reply["text"]
    assert db_rows(running, "select decision from questions where text = ?", text) == [(None,)]


def test_asking_for_a_person_without_operators_is_told_so(running: Running) -> None:
    user = running.new_user()
    [reply] = say(running, running.payments, user, "хочу поговорить с живым человеком")
    assert "Специалисты в этом чате сейчас не отвечают" in reply["text"]
    assert buttons(reply) == []


def test_media_gets_a_request_for_text_and_caption_is_a_question(running: Running) -> None:
    user = running.new_user()
    bot = running.vaccination
    for send in (running.emu.send_sticker, running.emu.send_voice, running.emu.send_location):
        before = len(received(running, bot, user))
        send(bot, user)
        [reply] = wait_replies(running, bot, user, before)
        assert "текст" in reply["text"]
    entry = VACCINATION_FAQ.entries[3]
    before = len(received(running, bot, user))
    running.emu.send_photo(bot, user, caption=entry.question)
    [answer] = wait_replies(running, bot, user, before)
    assert entry.answer.strip()[:40] in answer["text"]


def test_flood_is_recorded_and_warned_once(running: Running) -> None:
    user = running.new_user()
    bot = running.payments
    texts = [f"{PAYMENTS_FAQ.entries[0].question} ({i})" for i in range(9)]
    for text in texts:
        running.emu.send_text(bot, user, text)
    # 5 answers and exactly one "too fast" notice; the remaining 3 are recorded silently.
    replies = wait_replies(running, bot, user, 0, 6)
    assert sum("слишком часто" in r["text"] for r in replies) == 1
    running.emu.wait_for(lambda: len(db_rows(
        running, "select 1 from questions where text like ?",
        f"{PAYMENTS_FAQ.entries[0].question} (%")) == len(texts))
    kinds = db_rows(running, "select kind, count(*) from questions where text like ? "
                             "group by kind order by kind",
                    f"{PAYMENTS_FAQ.entries[0].question} (%")
    assert kinds == [("faq", 5), ("flood", 4)]


def test_forged_button_is_answered_politely_once(running: Running) -> None:
    user = running.new_user()
    [menu] = say(running, running.payments, user, "/start")
    for data in ("p:999999:amount", "zz:garbage", "f:1:1"):
        query_id = running.emu.press_button(running.payments, user, menu, data)
        running.emu.wait_for(partial(running.emu.callback_answered, query_id))
        answers = running.emu.callback_answers(query_id)
        assert len(answers) == 1
        assert "устарела" in (answers[0].get("text") or "")


def test_long_answer_is_split_under_the_limit(running: Running) -> None:
    faq_path: Path = running.bots_dir / "vaccination/faq.yaml"
    long_answer = " ".join(["Очень подробный ответ про вакцинацию."] * 200)  # ~7600 chars
    data = yaml.safe_load(faq_path.read_text(encoding="utf-8"))
    data["entries"].append({
        "id": "zz_long_answer_test",
        "question": "Тестовый вопрос про длинную инструкцию по ревакцинации дельфинов",
        "answer": long_answer,
    })
    faq_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    running.proc.wait_for_output("vaccination/faq.yaml reloaded")
    user = running.new_user()
    parts = say(running, running.vaccination, user,
                "Тестовый вопрос про длинную инструкцию по ревакцинации дельфинов", count=2)
    assert all(len(p["text"].encode("utf-16-le")) // 2 <= 4096 for p in parts)
    joined = " ".join(p["text"] for p in parts)
    assert joined.count("Очень подробный ответ") == 200
    assert buttons(parts[-1])
    assert not buttons(parts[0])


def test_broken_faq_edit_keeps_previous_version(running: Running) -> None:
    faq_path: Path = running.bots_dir / "payments/faq.yaml"
    original = faq_path.read_text(encoding="utf-8")
    faq_path.write_text(original.replace("alternatives:", "alternatves:", 1), encoding="utf-8")
    line = running.proc.wait_for_output("still serving the previous version")
    assert "payments/faq.yaml" in line
    running.proc.wait_for_output("alternatves")
    user = running.new_user()
    entry = PAYMENTS_FAQ.entries[1]
    [answer] = say(running, running.payments, user, entry.question)
    assert entry.answer.strip()[:40] in answer["text"]
    faq_path.write_text(original, encoding="utf-8")
