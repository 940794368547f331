"""Signing in: the password checked against its argon2id hash, under the throttle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Account
from service.domain.accounts.directory import find_account_by_email, normalise_email
from service.domain.accounts.passwords import hash_password, needs_rehash, verify_password
from service.domain.accounts.throttling import record_sign_in_failure, sign_in_locked_until

_MAX_TYPED = 320


@dataclass(frozen=True)
class SignInOutcome:
    """The account when the address and password match; otherwise why not."""

    account: Account | None
    locked_until: datetime | None = None


async def authenticate(
    db: AsyncSession, *, email: str, password: str, client_address: str, now: datetime
) -> SignInOutcome:
    """Check a sign-in. A wrong address and a wrong password look the same to the caller
    (and take the same time); both count towards the throttle, per address and per client."""
    email = normalise_email(email)[:_MAX_TYPED]
    client_address = client_address[:64]
    locked_until = await sign_in_locked_until(db, email=email, client_address=client_address,
                                              now=now)
    if locked_until is not None:
        return SignInOutcome(account=None, locked_until=locked_until)
    account = await find_account_by_email(db, email)
    usable = account is not None and account.disabled_at is None
    matches = verify_password(account.password_hash if usable and account else None,
                              password[:1000])
    if not (usable and matches and account is not None):
        await record_sign_in_failure(db, email=email, client_address=client_address, now=now)
        return SignInOutcome(account=None)
    if account.password_hash is not None and needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return SignInOutcome(account=account)
