"""Outbox keys of the messages sent while handling one update (fault review, issue 11 item 4).

Handling an update again after a crash may take another path (it finds what the first attempt
stored); a message must still never take the key of a message to another chat, or a retry of
the citizen's reply could be matched with the operators' copy.
"""

from __future__ import annotations

from escalation.delivery import Delivery
from escalation.scope import update_scope

CITIZEN, OPERATORS = 1001, -100500


def test_each_message_of_an_update_has_its_own_key() -> None:
    delivery = Delivery()
    with update_scope("u7", replay=False):
        keys = [delivery.next_key(CITIZEN), delivery.next_key(OPERATORS),
                delivery.next_key(CITIZEN)]
    assert len(set(keys)) == 3


def test_a_replay_that_skips_the_operators_copy_keeps_the_citizens_keys() -> None:
    delivery = Delivery()
    with update_scope("u7", replay=False):
        first = [delivery.next_key(OPERATORS), delivery.next_key(CITIZEN)]
    with update_scope("u7", replay=True):
        again = delivery.next_key(CITIZEN)
    assert again == first[1]
    assert again != first[0]


def test_a_given_key_is_kept_and_outside_an_update_keys_are_unique() -> None:
    delivery = Delivery()
    assert delivery.next_key(CITIZEN, "card:5") == "card:5"
    assert delivery.next_key(CITIZEN) != delivery.next_key(CITIZEN)
