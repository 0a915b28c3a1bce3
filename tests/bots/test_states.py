import pytest

from escalation.states import TicketAction, TicketState, TransitionError, next_state

A, S = TicketAction, TicketState


@pytest.mark.parametrize(
    ("state", "action", "owner", "expected"),
    [
        (S.NEW, A.CLAIM, False, S.IN_WORK),
        (S.IN_WORK, A.ANSWER, True, S.ANSWERED),
        (S.NEW, A.ANSWER, False, S.ANSWERED),  # answering without claiming first is fine
        (S.ANSWERED, A.ANSWER, True, S.ANSWERED),  # a follow-up answer
        (S.ANSWERED, A.CLOSE, True, S.CLOSED),
        (S.ANSWERED, A.REOPEN, True, S.IN_WORK),  # back to the operator who had it
        (S.CLOSED, A.REOPEN, False, S.NEW),
    ],
)
def test_allowed_transitions(state, action, owner, expected):
    assert next_state(state, action, has_owner=owner) is expected


@pytest.mark.parametrize(
    ("state", "action"),
    [(S.CLOSED, A.ANSWER), (S.CLOSED, A.CLAIM), (S.CLOSED, A.CLOSE), (S.NEW, A.REOPEN)],
)
def test_forbidden_transitions_explain_themselves(state, action):
    with pytest.raises(TransitionError, match=f"cannot {action.value}"):
        next_state(state, action, has_owner=True)
