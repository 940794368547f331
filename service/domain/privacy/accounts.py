"""Erasing a former organiser's account: an administrator's act once the account is disabled.

What the account did stays in the audit log, credited to "Former account #N" instead of a
name and an address; the account row stays (the log points at it), holding nothing that
names the person. The emails sent to it (invitations, password resets) keep their delivery
record only, as after any erasure.

Written with statements, not through the ORM's change tracking: the audit log's own hook
would otherwise copy the name and the address into the entry that records their removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import forget_emails
from service.db.models import (
    Account,
    AccountLink,
    AuditEntry,
    LoginFailure,
    OutboxEmail,
    TeamMembership,
)
from service.domain.accounts import end_account_sessions, get_account
from service.domain.accounts.audit import actor_of
from service.domain.errors import ConflictError
from service.domain.privacy.erasure import (
    WITHDRAWN_NOTE,
    address_hash,
    erased_address,
    scrub_json,
    scrubber,
)
from service.i18n import gettext as _

ERASED_ACTION = "erased"


def former_account_label(account_id: int) -> str:
    """What the audit log calls an erased account (not translated: the log is a record)."""
    return f"Former account #{account_id}"


@dataclass(frozen=True)
class AccountErasure:
    audit_entries: int  # entries whose actor or content named the account's holder
    emails: int  # emails to the account stripped to their delivery record


async def erase_account(db: AsyncSession, account_id: int, *, by_account_id: int,
                        now: datetime, secret_key: str) -> AccountErasure:
    """The account's name and address go everywhere they are held; refused for one's own
    account and for an account still enabled (disable it first), and idempotent."""
    account = await get_account(db, account_id)
    if account.id == by_account_id:
        raise ConflictError(_("You cannot erase your own account."), "account")
    if account.disabled_at is None:
        raise ConflictError(_("Disable the account before erasing it."), "account")
    if account.erased_at is not None:
        return AccountErasure(audit_entries=0, emails=0)
    name, address = account.name, account.email
    scrub = scrubber([name, address])
    label = former_account_label(account.id)
    await end_account_sessions(db, account.id, now=now)
    await db.execute(delete(AccountLink).where(AccountLink.account_id == account.id))
    await db.execute(delete(TeamMembership).where(TeamMembership.account_id == account.id))
    await db.execute(delete(LoginFailure).where(func.lower(LoginFailure.email) == address))
    email_ids = list(await db.scalars(
        select(OutboxEmail.id).where(func.lower(OutboxEmail.to_address) == address)))
    forgotten = await forget_emails(db, email_ids, now=now, note=WITHDRAWN_NOTE, scrub=scrub,
                                    address_hash=lambda to: address_hash(secret_key, to))
    touched = 0
    entries = (await db.execute(
        select(AuditEntry.id, AuditEntry.actor_label, AuditEntry.before, AuditEntry.after)
        .where(or_(AuditEntry.account_id == account.id,
                   AuditEntry.actor_label.contains(address),
                   (AuditEntry.subject_type == "account")
                   & (AuditEntry.subject_id == account.id))))).all()
    for entry_id, actor_label, before, after in entries:
        values: dict[str, Any] = {
            "actor_label": label if actor_label and address in actor_label else actor_label,
            "before": scrub_json(before, scrub), "after": scrub_json(after, scrub)}
        await db.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**values))
        touched += 1
    await db.execute(
        update(Account).where(Account.id == account.id)
        .values(name=label, email=erased_address(), password_hash=None, erased_at=now,
                updated_at=now)
        .execution_options(synchronize_session=False))
    db.expire(account)
    actor = actor_of(db)
    db.add(AuditEntry(
        at=now, account_id=actor.account_id if actor else by_account_id,
        api_token_id=actor.api_token_id if actor else None,
        actor_label=(actor.label if actor else f"Account #{by_account_id}")[:300],
        action=ERASED_ACTION, subject_type="account", subject_id=account_id, event_id=None,
        before=None, after={"audit_entries": touched, "emails": forgotten.forgotten}))
    await db.flush()
    return AccountErasure(audit_entries=touched, emails=forgotten.forgotten)
