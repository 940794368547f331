"""Invitations and password resets: single-use emailed links that let a person choose a
password, and the administrators' changes to accounts (role, teams, disabled).

A link's token is random; only its SHA-256 is stored. It works once and until it expires
(72 hours for an invitation, 2 hours for a reset); a newer link of the same purpose
replaces the older ones. The emails go through the outbox in the caller's transaction.
Asking for a reset answers nothing about whether the address has an account: the caller
shows the same page either way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import Account, AccountLink, AccountLinkPurpose, AccountRole
from service.domain import wording
from service.domain.accounts.directory import (
    create_account,
    find_account_by_email,
    get_account,
    set_account_teams,
)
from service.domain.accounts.passwords import check_new_password, hash_password
from service.domain.accounts.sessions import end_account_sessions
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.domain.urls import account_invitation_url, password_reset_url
from service.i18n import DEFAULT_LANGUAGE, use_language
from service.i18n import gettext as _
from service.settings import Settings

INVITATION_VALID_FOR = timedelta(hours=72)
RESET_VALID_FOR = timedelta(hours=2)
# At most this many reset emails per account and hour: nobody's inbox is flooded from here.
MAX_RESETS_PER_HOUR = 3
INVITATION_TEMPLATE = "account_invitation_to_organiser"
RESET_TEMPLATE = "password_reset_to_organiser"
# Times in emails to organisers: the network's home zone.
EMAIL_ZONE = "Europe/Brussels"
ROLE_LABELS = {AccountRole.ADMIN: "an administrator", AccountRole.ORGANISER: "an organiser",
               AccountRole.VIEWER: "a viewer (read only)"}
_MAX_TOKEN = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue_link(db: AsyncSession, account: Account, purpose: AccountLinkPurpose, *,
                      valid_for: timedelta, now: datetime) -> tuple[str, datetime]:
    """A new link; earlier unused links of the same purpose stop working."""
    await db.execute(
        update(AccountLink)
        .where(AccountLink.account_id == account.id, AccountLink.purpose == purpose,
               AccountLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch"))
    token = secrets.token_urlsafe(32)
    expires_at = now + valid_for
    db.add(AccountLink(account_id=account.id, purpose=purpose, token_hash=_hash(token),
                       created_at=now, expires_at=expires_at))
    await db.flush()
    return token, expires_at


async def _queue(db: AsyncSession, account: Account, template: str,
                 context: Callable[[], dict[str, object]], *, now: datetime,
                 settings: Settings) -> None:
    """The email in the account's own language, whoever sends it (an administrator's
    invitation included): `context` is worded in it."""
    with use_language(account.language) as language:
        message = EmailMessage(
            template=template, to_address=account.email, to_name=account.name,
            context={"recipient_name": account.name, "recipient_email": account.email,
                     **context()},
            language=language,
        )
    await queue_emails(db, [OutboxEntry(message)], settings=settings, now=now)


async def send_invitation(db: AsyncSession, account: Account, *, invited_by: str,
                          now: datetime, settings: Settings) -> None:
    """Email the account a new invitation (the previous one, if any, stops working)."""
    token, expires_at = await _issue_link(db, account, AccountLinkPurpose.INVITATION,
                                          valid_for=INVITATION_VALID_FOR, now=now)
    await _queue(db, account, INVITATION_TEMPLATE, lambda: {
        "link_url": account_invitation_url(settings, token), "invited_by": invited_by,
        "role_label": ROLE_LABELS[account.role],
        "expires": wording.start_text(expires_at, EMAIL_ZONE),
    }, now=now, settings=settings)


async def invite_account(
    db: AsyncSession, *, email: str, name: str, role: str, team_ids: Iterable[int],
    invited_by: str, now: datetime, settings: Settings, language: str = DEFAULT_LANGUAGE,
) -> Account:
    """A new account without a password, and an emailed link to choose one (in `language`,
    the new account's)."""
    account = await create_account(db, email=email, name=name, role=role, team_ids=team_ids,
                                   now=now, language=language)
    await send_invitation(db, account, invited_by=invited_by, now=now, settings=settings)
    return account


async def request_password_reset(db: AsyncSession, email: str, *, now: datetime,
                                 settings: Settings) -> None:
    """Email a reset link if the address has a usable account; otherwise do nothing, the
    same way (the caller's answer never tells which)."""
    account = await find_account_by_email(db, email[:320])
    if account is None or account.disabled_at is not None:
        return
    recent = await db.scalar(select(func.count(AccountLink.id)).where(
        AccountLink.account_id == account.id,
        AccountLink.purpose == AccountLinkPurpose.PASSWORD_RESET,
        AccountLink.created_at > now - timedelta(hours=1)))
    if (recent or 0) >= MAX_RESETS_PER_HOUR:
        return
    token, expires_at = await _issue_link(db, account, AccountLinkPurpose.PASSWORD_RESET,
                                          valid_for=RESET_VALID_FOR, now=now)
    await _queue(db, account, RESET_TEMPLATE, lambda: {
        "link_url": password_reset_url(settings, token),
        "expires": wording.start_text(expires_at, EMAIL_ZONE),
    }, now=now, settings=settings)


@dataclass(frozen=True)
class LinkHolder:
    link: AccountLink
    account: Account


async def find_account_link(db: AsyncSession, token: str, purpose: AccountLinkPurpose, *,
                            now: datetime) -> LinkHolder | None:
    """The live link for a token (unused, not expired, account not disabled), or None."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    row = (await db.execute(
        select(AccountLink, Account).join(Account, Account.id == AccountLink.account_id)
        .where(AccountLink.token_hash == _hash(token), AccountLink.purpose == purpose)
    )).first()
    if row is None:
        return None
    link, account = row[0], row[1]
    if link.used_at is not None or link.expires_at <= now or account.disabled_at is not None:
        return None
    return LinkHolder(link=link, account=account)


async def set_password_with_link(
    db: AsyncSession, token: str, purpose: AccountLinkPurpose, *, password: str,
    password_again: str, now: datetime,
) -> Account:
    """Choose a password through a link: the link is used up, and (for a reset) every
    session of the account ends."""
    holder = await find_account_link(db, token, purpose, now=now)
    if holder is None:
        raise NotFoundError(_("This link has expired or has been used already."))
    account = holder.account
    check_new_password(password, email=account.email, name=account.name)
    if password != password_again:
        raise InvalidInputError(_("The two passwords differ."), "password_again")
    account.password_hash = hash_password(password)
    account.updated_at = now
    holder.link.used_at = now
    await end_account_sessions(db, account.id, now=now)
    await db.flush()
    return account


async def change_account(
    db: AsyncSession, account_id: int, *, role: str, team_ids: Iterable[int], by_account_id: int,
    now: datetime,
) -> Account:
    """An administrator changes someone's role and teams (their own role stays)."""
    account = await get_account(db, account_id)
    if role not in {r.value for r in AccountRole}:
        raise InvalidInputError(_("Choose admin, organiser or viewer."), "role")
    if account.id == by_account_id and role != account.role.value:
        raise ConflictError(_("You cannot change your own role; ask another administrator."), "role")
    await set_account_teams(db, account.id, team_ids, now=now)  # checks them first
    account.role = AccountRole(role)
    account.updated_at = now
    await db.flush()
    return account


async def disable_account(db: AsyncSession, account_id: int, *, by_account_id: int,
                          now: datetime) -> Account:
    """The account can no longer sign in; its sessions end now. Its history stays."""
    account = await get_account(db, account_id)
    if account.id == by_account_id:
        raise ConflictError(_("You cannot disable your own account."), "account")
    if account.disabled_at is None:
        account.disabled_at = now
        account.updated_at = now
        await end_account_sessions(db, account.id, now=now)
        await db.flush()
    return account


async def enable_account(db: AsyncSession, account_id: int, *, now: datetime) -> Account:
    account = await get_account(db, account_id)
    account.disabled_at = None
    account.updated_at = now
    await db.flush()
    return account
