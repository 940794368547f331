"""Private links for registrants, speakers and organisers' calendar feeds.

A token is HMAC-SHA256(secret key, purpose + random nonce): 256 unguessable bits that the
service can show again (on a manage page, in a re-sent email) while the database holds only
the SHA-256 of the token. Revoking a link and issuing a new one gives a new nonce.
Tokens are never logged: callers pass them only in URLs the registrant was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import insert_rows, one_of, table_of
from service.db.models import AccessPurpose, AccessToken, GroupMember, Person, Registration
from service.domain.urls import manage_url
from service.settings import Settings


def _derive(secret_key: str, purpose: AccessPurpose, nonce: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_hash(token: str) -> str:
    """What the database keeps of a presented token (for lookups joined with other rows)."""
    return _hash(token)


def token_for(access: AccessToken, secret_key: str) -> str:
    return _derive(secret_key, access.purpose, access.nonce)


async def issue_access_token(
    db: AsyncSession, purpose: AccessPurpose, *, secret_key: str, now: datetime,
    registration_id: int | None = None, person_id: int | None = None,
    api_token_id: int | None = None,
) -> str:
    """A new private link token for the owner; earlier live ones of that purpose are revoked."""
    for old in await _live(db, purpose, registration_id, person_id, api_token_id):
        old.revoked_at = now
    nonce = secrets.token_hex(16)
    token = _derive(secret_key, purpose, nonce)
    db.add(
        AccessToken(
            purpose=purpose, nonce=nonce, token_hash=_hash(token), registration_id=registration_id,
            person_id=person_id, api_token_id=api_token_id, created_at=now,
        )
    )
    await db.flush()
    return token


async def issue_first_registration_tokens(
    db: AsyncSession, registration_ids: Sequence[int], purposes: Sequence[AccessPurpose], *,
    secret_key: str, now: datetime,
) -> list[list[str]]:
    """Tokens for registrations created in this transaction: for each, one per purpose.

    Like `issue_access_token`, without looking for earlier tokens to revoke (a registration
    that did not exist before this transaction has none), and in one multi-row INSERT.
    """
    tokens: list[list[str]] = []
    rows: list[dict[str, object]] = []
    for registration_id in registration_ids:
        tokens.append([])
        for purpose in purposes:
            nonce = secrets.token_hex(16)
            token = _derive(secret_key, purpose, nonce)
            rows.append({"purpose": purpose, "nonce": nonce, "token_hash": _hash(token),
                         "registration_id": registration_id, "created_at": now})
            tokens[-1].append(token)
    if rows:
        await insert_rows(db, table_of(AccessToken), rows)
    return tokens


async def current_access_token(
    db: AsyncSession, purpose: AccessPurpose, *, secret_key: str, now: datetime,
    registration_id: int | None = None, person_id: int | None = None,
    api_token_id: int | None = None,
) -> str:
    """The owner's live token for `purpose`, issuing one on first use."""
    live = await _live(db, purpose, registration_id, person_id, api_token_id)
    if live:
        return token_for(live[-1], secret_key)
    return await issue_access_token(
        db, purpose, secret_key=secret_key, now=now, registration_id=registration_id,
        person_id=person_id, api_token_id=api_token_id,
    )


async def registration_tokens(
    db: AsyncSession, purposes: Sequence[AccessPurpose], registration_ids: Sequence[int], *,
    secret_key: str, now: datetime,
) -> dict[tuple[int, AccessPurpose], str]:
    """`current_access_token` for many registrations and purposes in one query (a batch of
    emails); a token missing is issued as there."""
    # Plain columns, not ORM objects: composing a batch of emails reads these for each.
    rows = await db.execute(
        select(AccessToken.registration_id, AccessToken.purpose, AccessToken.nonce)
        .where(
            AccessToken.purpose.in_(purposes),
            one_of(db, AccessToken.registration_id, registration_ids),
            AccessToken.person_id.is_(None),
            AccessToken.api_token_id.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .order_by(AccessToken.id)
    )
    # The newest live token wins, as in `current_access_token`.
    tokens = {(registration_id, AccessPurpose(purpose)): _derive(secret_key, purpose, nonce)
              for registration_id, purpose, nonce in rows if registration_id is not None}
    for registration_id in registration_ids:
        for purpose in purposes:
            if (registration_id, purpose) not in tokens:
                tokens[(registration_id, purpose)] = await current_access_token(
                    db, purpose, secret_key=secret_key, now=now,
                    registration_id=registration_id)
    return tokens


async def manage_links(
    db: AsyncSession, registration_ids: Sequence[int], *, now: datetime, settings: Settings
) -> dict[int, str]:
    """Each registrant's manage page link (to cancel and free the place), in one query."""
    purpose = AccessPurpose.REGISTRATION_MANAGE
    tokens = await registration_tokens(db, (purpose,), registration_ids,
                                       secret_key=settings.secret_key, now=now)
    return {registration_id: manage_url(settings, token)
            for (registration_id, _), token in tokens.items()}


async def find_access(db: AsyncSession, purpose: AccessPurpose, token: str) -> AccessToken | None:
    """The live access row for a presented token, or None (unknown and revoked look the same)."""
    if not token or len(token) > 100:
        return None
    return await db.scalar(
        select(AccessToken).where(
            AccessToken.token_hash == _hash(token),
            AccessToken.purpose == purpose,
            AccessToken.revoked_at.is_(None),
        )
    )


async def owner_language(db: AsyncSession, purpose: AccessPurpose, token: str) -> str | None:
    """The language the owner of a live private link reads (their emails' language): a
    registrant's, a speaker's or an Interest Group member's; None for no such link."""
    found = await find_access(db, purpose, token)
    if found is None:
        return None
    if found.registration_id is not None:
        return await db.scalar(select(Registration.language)
                               .where(Registration.id == found.registration_id))
    if found.group_member_id is not None:
        return await db.scalar(select(GroupMember.language)
                               .where(GroupMember.id == found.group_member_id))
    if found.person_id is not None:
        return await db.scalar(select(Person.language).where(Person.id == found.person_id))
    return None


async def find_issued_access(db: AsyncSession, purpose: AccessPurpose, token: str
                             ) -> AccessToken | None:
    """The access row for a presented token, live or revoked: for single-use links, whose
    page tells "used already" or "replaced by a newer one" from "unknown"."""
    if not token or len(token) > 100:
        return None
    return await db.scalar(
        select(AccessToken).where(AccessToken.token_hash == _hash(token),
                                  AccessToken.purpose == purpose)
    )


async def revoke_registration_tokens(db: AsyncSession, purpose: AccessPurpose,
                                     registration_id: int, *, now: datetime) -> None:
    """Every live token of `purpose` for the registration stops working."""
    await db.execute(
        update(AccessToken)
        .where(AccessToken.purpose == purpose, AccessToken.registration_id == registration_id,
               AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def _live(
    db: AsyncSession, purpose: AccessPurpose, registration_id: int | None,
    person_id: int | None, api_token_id: int | None,
) -> list[AccessToken]:
    return list(
        await db.scalars(
            select(AccessToken)
            .where(
                AccessToken.purpose == purpose,
                AccessToken.registration_id.is_(None) if registration_id is None
                else AccessToken.registration_id == registration_id,
                AccessToken.person_id.is_(None) if person_id is None
                else AccessToken.person_id == person_id,
                AccessToken.api_token_id.is_(None) if api_token_id is None
                else AccessToken.api_token_id == api_token_id,
                AccessToken.revoked_at.is_(None),
            )
            .order_by(AccessToken.id)
        )
    )


# --- Interest Group members ------------------------------------------------------------------

GROUP_MEMBER_PURPOSES = (AccessPurpose.GROUP_MEMBER_PAGE, AccessPurpose.GROUP_MEMBER_FEED)


async def group_member_token(
    db: AsyncSession, member_id: int, purpose: AccessPurpose, *, secret_key: str, now: datetime,
) -> str:
    """A group member's live token for `purpose` (their private page or personal feed),
    issued on first use."""
    if purpose not in GROUP_MEMBER_PURPOSES:
        raise ValueError(f"{purpose} is not a group member's link")
    live = await db.scalars(
        select(AccessToken)
        .where(AccessToken.purpose == purpose, AccessToken.group_member_id == member_id,
               AccessToken.revoked_at.is_(None))
        .order_by(AccessToken.id.desc())
        .limit(1)
    )
    current = live.first()
    if current is not None:
        return token_for(current, secret_key)
    nonce = secrets.token_hex(16)
    token = _derive(secret_key, purpose, nonce)
    db.add(AccessToken(purpose=purpose, nonce=nonce, token_hash=_hash(token),
                       group_member_id=member_id, created_at=now))
    await db.flush()
    return token


async def revoke_group_member_tokens(db: AsyncSession, member_id: int, *, now: datetime) -> None:
    """A member who left: their private page and feed links stop working."""
    await db.execute(
        update(AccessToken)
        .where(AccessToken.group_member_id == member_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
