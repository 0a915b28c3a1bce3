from pathlib import Path

import pytest

from bots.smalltalk import SmallTalk, SmallTalkError, SmallTalkKind

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Привет!", SmallTalkKind.GREETING),
        ("Добрый день", SmallTalkKind.GREETING),
        ("здравствуйте, подскажите пожалуйста", SmallTalkKind.GREETING),
        ("Спасибо большое!!!", SmallTalkKind.THANKS),
        ("спс", SmallTalkKind.THANKS),
        ("привет, спасибо вам", SmallTalkKind.THANKS),
        ("До свидания", SmallTalkKind.FAREWELL),
        ("вы там все дебилы что ли", SmallTalkKind.ABUSE),
        ("Сука, где мои деньги", SmallTalkKind.ABUSE),
    ],
)
def test_small_talk_is_recognised(smalltalk, text, kind):
    assert smalltalk.classify(text) is kind


@pytest.mark.parametrize(
    "text",
    [
        "Добрый день, сколько платят на ребёнка?",
        "Здравствуйте, как получить сертификат о вакцинации",
        "спасибо, а где записаться на прививку?",
        "страховка",  # contains "страх", no abusive root
        "потребовали справку",
    ],
)
def test_questions_are_not_small_talk(smalltalk, text):
    assert smalltalk.classify(text) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("greetings: [привет\n", "не удалось прочитать"),
        ("- привет\n", "ожидается набор"),
        ("greetings: привет\n", "«greetings» должен быть списком"),
        ("greetings: [привет]\ngreting: [здравствуйте]\n", "неизвестные списки greting"),
    ],
)
def test_a_broken_word_list_is_refused_with_the_file_and_the_reason(
        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "smalltalk.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SmallTalkError, match=message) as caught:
        SmallTalk.from_file(path)
    assert str(path) in str(caught.value)
