from pathlib import Path

import pytest

from bots.settings import Settings
from bots.texts import TextsError, load_texts
from bots.topic import discover

BOTS = Path(__file__).resolve().parents[2] / "bots"


@pytest.mark.parametrize("name", discover(BOTS))
def test_every_bot_has_complete_texts(name):
    texts = load_texts(BOTS / name)
    assert texts.topic
    assert "Госуслуги" in texts.start  # the greeting says where official appeals go
    texts.escalate.format(question_id=1)  # every placeholder is one the bot fills in


def test_shipped_bots_are_discovered():
    assert {"payments", "vaccination"} <= set(discover(BOTS))


def _bot_dir(tmp_path: Path, own: str) -> Path:
    (tmp_path / "texts.yaml").write_text((BOTS / "texts.yaml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    bot = tmp_path / "demo"
    bot.mkdir()
    (bot / "texts.yaml").write_text(own, encoding="utf-8")
    return bot


def test_missing_text_is_named(tmp_path):
    bot = _bot_dir(tmp_path, "topic: тест\nstart: привет\n")
    with pytest.raises(TextsError, match="example"):
        load_texts(bot)


def test_unknown_placeholder_is_rejected(tmp_path):
    bot = _bot_dir(tmp_path, "topic: т\nstart: с\nexample: п\nescalate: 'номер {ticket}'\n")
    with pytest.raises(TextsError, match="ticket"):
        load_texts(bot)


def test_typo_in_text_name_is_an_error(tmp_path):
    bot = _bot_dir(tmp_path, "topic: т\nstart: с\nexample: п\nstrat: опечатка\n")
    with pytest.raises(TextsError, match="strat"):
        load_texts(bot)


def test_per_bot_values_come_from_environment(monkeypatch):
    monkeypatch.setenv("DEMO_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("DEMO_OPERATORS_CHAT_ID", "-100123")
    settings = Settings()
    token = settings.bot_token("demo")
    assert token is not None
    assert token.get_secret_value() == "1:abc"
    assert "1:abc" not in repr(settings.bot_token("demo"))  # never printed by accident
    assert settings.operators_chat_id("demo") == -100123


def test_bad_operators_chat_id_is_explained(monkeypatch):
    monkeypatch.setenv("DEMO_OPERATORS_CHAT_ID", "operators")
    with pytest.raises(ValueError, match="DEMO_OPERATORS_CHAT_ID"):
        Settings().operators_chat_id("demo")
