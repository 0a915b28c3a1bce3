"""An editor adds a citizen's exact wording as an alternative: the running bot answers exactly
that question with that entry (issue 12), after the hot reload, without a restart.

The wordings are ones the shipped FAQ does not answer with one entry today (it asks which of
two entries was meant, or hands the question to people); the test checks that first, so it
keeps proving something when the FAQ changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from faq import load_faq
from faq.contacts import load_faq_with_contacts
from tests.e2e.conftest import Running
from tests.e2e.process import ROOT
from tests.e2e.test_citizen import say
from tests.semantic import shipped_matcher

pytestmark = pytest.mark.e2e

FAQ_PATH = ROOT / "bots/payments/faq.yaml"
# citizen's wording -> the entry the editor adds it to
ADDED = {
    "сколько денег дают на ребенка": "amount",
    "деньги на детей когда": "payment-date",
    "а чё по баблу на мелкого": "amount",
}


def test_the_wordings_are_not_answered_by_the_shipped_faq() -> None:
    matcher = shipped_matcher("payments")
    for wording, entry_id in ADDED.items():
        result = matcher.match(wording)
        assert (result.decision, result.entry_id) != ("answer", entry_id), wording


def test_an_added_alternative_is_answered_exactly(running: Running) -> None:
    path: Path = running.bots_dir / "payments/faq.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["entries"]:
        added = [w for w, entry_id in ADDED.items() if entry_id == entry["id"]]
        entry["alternatives"] = [*entry.get("alternatives", []), *added]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    running.proc.wait_for_output("payments/faq.yaml reloaded")

    answers = {e.id: e.answer.strip() for e in load_faq_with_contacts(FAQ_PATH).entries}
    assert load_faq(FAQ_PATH).entries  # the shipped file itself is untouched
    for wording, entry_id in ADDED.items():
        user = running.new_user()
        [reply] = say(running, running.payments, user, wording)
        assert answers[entry_id][:60] in reply["text"], (wording, reply["text"][:200])
