from aiogram.types import MessageEntity

from escalation.splitting import TELEGRAM_TEXT_LIMIT, split_text, utf16_len


def test_short_text_is_one_unchanged_part():
    parts = split_text("Привет", [MessageEntity(type="bold", offset=0, length=6)])
    assert [p.text for p in parts] == ["Привет"]
    assert parts[0].entities[0].length == 6


def test_long_text_splits_at_words_and_keeps_everything():
    words = [f"слово{i}" for i in range(2000)]
    text = " ".join(words)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(utf16_len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert " ".join(p.text for p in parts).split() == words  # no word cut, nothing lost


def test_prefers_paragraph_breaks():
    first = "а" * 3000
    text = first + "\n\n" + "б " * 1000
    parts = split_text(text)
    assert parts[0].text == first


def test_counts_utf16_units_for_emoji():
    # Each emoji is 2 UTF-16 units: 2100 of them are 4200 units, over the limit.
    text = " ".join(["😀"] * 2100)
    parts = split_text(text)
    assert all(utf16_len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert sum(p.text.count("😀") for p in parts) == 2100


def test_never_cuts_inside_an_entity_and_rebases_offsets():
    head = "x " * 2040  # 4080 units: the bold part would cross the limit
    bold = "жирный текст здесь"
    text = head + bold + " хвост"
    offset = utf16_len(head)
    parts = split_text(text, [MessageEntity(type="bold", offset=offset, length=utf16_len(bold))])
    assert len(parts) == 2
    assert bold in parts[1].text
    entity = parts[1].entities[0]
    assert parts[1].text[entity.offset : entity.offset + entity.length] == bold


def test_single_word_longer_than_limit_is_cut_hard():
    text = "я" * 5000
    parts = split_text(text)
    assert [len(p.text) for p in parts] == [4096, 904]
