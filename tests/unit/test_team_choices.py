"""Which teams an account may put an event or a group in, and what is stored for a choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.db.models import AccountRole, Team
from service.domain.accounts import SignedInAccount, chosen_team, new_work_team, team_choices
from service.domain.errors import InvalidInputError

NOW = datetime(2026, 12, 5, tzinfo=UTC)
TEAMS = [Team(id=1, name="Programme team", is_default=True, created_at=NOW),
         Team(id=2, name="Regional team", is_default=False, created_at=NOW),
         Team(id=3, name="Third team", is_default=False, created_at=NOW)]


def account(role: AccountRole, *team_ids: int) -> SignedInAccount:
    return SignedInAccount(id=7, email="olga@procura.example.org", name="Olga", role=role,
                           team_ids=frozenset(team_ids), default_team_id=1)


@pytest.mark.parametrize(("who", "choices"), [
    (account(AccountRole.ORGANISER, 1, 2), [1, 2]),
    (account(AccountRole.ORGANISER, 3), [3]),
    (account(AccountRole.ORGANISER), []),
    (account(AccountRole.ADMIN), [1, 2, 3]),
])
def test_an_admin_may_use_any_team_and_anyone_else_their_own(
    who: SignedInAccount, choices: list[int]
) -> None:
    assert [team.id for team in team_choices(who, TEAMS)] == choices


@pytest.mark.parametrize(("who", "team"), [
    (account(AccountRole.ORGANISER, 1, 2), None),  # in the default team: it, stored as none
    (account(AccountRole.ORGANISER, 3, 2), 2),  # else the first of theirs
    (account(AccountRole.ADMIN), None),
    (account(AccountRole.ADMIN, 3), 3),
])
def test_without_a_choice_new_work_goes_to_the_default_team_or_the_makers_first(
    who: SignedInAccount, team: int | None
) -> None:
    assert new_work_team(who) == team


def test_the_default_team_is_stored_as_none_and_a_team_out_of_reach_is_refused() -> None:
    organiser = account(AccountRole.ORGANISER, 1, 2)

    assert [chosen_team(organiser, TEAMS, 1), chosen_team(organiser, TEAMS, 2)] == [None, 2]
    for refused in (3, 99, None):
        with pytest.raises(InvalidInputError) as raised:
            chosen_team(organiser, TEAMS, refused)
        assert [(p.field, p.message) for p in raised.value.errors] == [
            ("team_id", "Choose one of the teams in the list.")]
    assert chosen_team(account(AccountRole.ADMIN), TEAMS, 3) == 3
