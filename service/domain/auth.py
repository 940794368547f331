"""Organiser API tokens: created by the CLI, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ApiToken
from service.domain.errors import InvalidInputError
from service.i18n import gettext as _

ROLES = ("admin", "organiser", "viewer")  # as accounts (AccountRole)
TOKEN_PREFIX = "pe_"  # noqa: S105  (a visible prefix, not a secret)
_LAST_USED_GRANULARITY = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    api_token: ApiToken
    secret: str  # shown once to whoever created it, never stored


async def create_api_token(db: AsyncSession, *, name: str, role: str, now: datetime,
                           team_id: int | None = None) -> IssuedToken:
    """A new token; with `team_id` it reaches only that team's events (None: every team's)."""
    if role not in ROLES:
        raise InvalidInputError(_("Role must be one of %(roles)s.") % {"roles": ", ".join(ROLES)}, "role")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(name=name, role=role, token_hash=hash_token(secret), created_at=now,
                         team_id=team_id)
    db.add(api_token)
    await db.flush()
    return IssuedToken(api_token=api_token, secret=secret)


async def find_api_token(db: AsyncSession, secret: str, *, now: datetime) -> ApiToken | None:
    """The live token with this secret, or None; records (coarsely) when it was last used."""
    api_token = await db.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
    )
    if api_token is not None and (
        api_token.last_used_at is None or now - api_token.last_used_at > _LAST_USED_GRANULARITY
    ):
        api_token.last_used_at = now
    return api_token


async def revoke_api_token(db: AsyncSession, token_id: int, *, now: datetime) -> bool:
    api_token = await db.get(ApiToken, token_id)
    if api_token is None or api_token.revoked_at is not None:
        return False
    api_token.revoked_at = now
    await db.flush()
    return True


async def list_api_tokens(db: AsyncSession) -> list[ApiToken]:
    return list(await db.scalars(select(ApiToken).order_by(ApiToken.id)))
