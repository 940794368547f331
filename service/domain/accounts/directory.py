"""Organiser accounts and teams: creating them, finding them, who belongs where.

An account's email is stored normalised (trimmed, lower-cased) so one address is one
account however it is typed. Roles: admin (everything), organiser (their teams' events),
viewer (reads their teams' events).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Account, AccountRole, Team, TeamMembership
from service.domain.accounts.passwords import check_new_password, hash_password
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.text import has_control
from service.i18n import DEFAULT_LANGUAGE, is_language, supported
from service.i18n import gettext as _

DEFAULT_TEAM_NAME = "Programme team"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignedInAccount:
    """The account behind a request, as handlers and templates use it."""

    id: int
    email: str
    name: str
    role: AccountRole
    team_ids: frozenset[int]
    # The team that owns events naming no team (see Team): theirs too if they belong to it.
    default_team_id: int | None
    # Their back-office language (and that of the emails they receive).
    language: str = DEFAULT_LANGUAGE

    @property
    def is_admin(self) -> bool:
        return self.role is AccountRole.ADMIN

    @property
    def is_editor(self) -> bool:
        """May change things (admins and organisers; viewers only read)."""
        return self.role in (AccountRole.ADMIN, AccountRole.ORGANISER)


def _account_errors(email: str, name: str, role: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not _EMAIL.match(email) or len(email) > 320:
        errors.append(FieldError("email", _("Enter an email address like name@example.org.")))
    if not name.strip():
        errors.append(FieldError("name", _("Enter the person's name.")))
    elif len(name) > 200:
        errors.append(FieldError("name", _("Use at most 200 characters.")))
    if role not in {r.value for r in AccountRole}:
        errors.append(FieldError("role", _("Choose admin, organiser or viewer.")))
    return errors


async def create_account(
    db: AsyncSession, *, email: str, name: str, role: str, now: datetime,
    team_ids: Iterable[int] = (), password: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Account:
    """A new account; without a password it can sign in only once one is set (invitation).
    `language`: the back office's and its emails' language for them (the invitation's too)."""
    email = normalise_email(email)
    name = name.strip()
    errors = _account_errors(email, name, role)
    if not is_language(language):
        errors.append(FieldError("language", _("Choose one of the languages offered.")))
    if password is not None and not errors:
        try:
            check_new_password(password, email=email, name=name)
        except InvalidInputError as error:
            errors.extend(error.errors)
    if errors:
        raise InvalidInputError.of(errors)
    if await db.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise ConflictError(_("An account with this email address exists already."), "email")
    account = Account(
        email=email, name=name, role=AccountRole(role), created_at=now, updated_at=now,
        password_hash=hash_password(password) if password is not None else None,
        language=language,
    )
    db.add(account)
    await db.flush()
    await set_account_teams(db, account.id, team_ids, now=now)
    return account


async def set_account_teams(db: AsyncSession, account_id: int, team_ids: Iterable[int], *,
                            now: datetime) -> None:
    wanted = set(team_ids)
    known = set(await db.scalars(select(Team.id).where(Team.id.in_(wanted)))) if wanted else set()
    if wanted - known:
        raise InvalidInputError(_("Choose teams from the list."), "teams")
    await db.execute(delete(TeamMembership).where(TeamMembership.account_id == account_id))
    db.add_all(TeamMembership(team_id=team_id, account_id=account_id, created_at=now)
               for team_id in sorted(wanted))
    await db.flush()


async def find_account_by_email(db: AsyncSession, email: str) -> Account | None:
    if has_control(email):  # no address holds one (and PostgreSQL refuses a NUL outright)
        return None
    return await db.scalar(select(Account).where(Account.email == normalise_email(email)))


async def get_account(db: AsyncSession, account_id: int) -> Account:
    account = await db.get(Account, account_id)
    if account is None:
        raise NotFoundError(_("No such account."))
    return account


async def list_accounts(db: AsyncSession) -> list[Account]:
    return list(await db.scalars(select(Account).order_by(func.lower(Account.name), Account.id)))


async def list_teams(db: AsyncSession) -> list[Team]:
    return list(await db.scalars(select(Team).order_by(Team.name)))


async def account_team_ids(db: AsyncSession, account_id: int) -> frozenset[int]:
    return frozenset(await db.scalars(
        select(TeamMembership.team_id).where(TeamMembership.account_id == account_id)))


async def default_team_id(db: AsyncSession) -> int | None:
    return await db.scalar(select(Team.id).where(Team.is_default.is_(True)).order_by(Team.id))


async def find_or_create_team(db: AsyncSession, name: str, *, now: datetime) -> Team:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError(_("Give the team a name of at most 200 characters."), "team")
    if has_control(name):
        raise InvalidInputError(_("Must be a single line without control characters."), "team")
    team = await db.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, is_default=False, created_at=now)
        db.add(team)
        await db.flush()
    return team


async def signed_in_account(db: AsyncSession, account: Account) -> SignedInAccount:
    return SignedInAccount(
        id=account.id, email=account.email, name=account.name, role=account.role,
        team_ids=await account_team_ids(db, account.id),
        default_team_id=await default_team_id(db),
        language=supported(account.language),
    )


async def set_account_language(db: AsyncSession, account_id: int, language: str, *,
                               now: datetime) -> Account:
    """The organiser's own choice of back-office language; 422 naming `language` (nothing
    changed) unless it is one the service speaks."""
    if not is_language(language):
        raise InvalidInputError.of([FieldError("language",
                                               _("Choose one of the languages offered."))])
    account = await db.get(Account, account_id)
    if account is None:
        raise NotFoundError(f"No account with id {account_id}.", "account_id")
    if account.language != language:
        account.language = language
        account.updated_at = now
        await db.flush()
    return account


def team_names(teams: Sequence[Team], team_ids: Iterable[int]) -> list[str]:
    by_id = {team.id: team.name for team in teams}
    return sorted(by_id[team_id] for team_id in team_ids if team_id in by_id)
