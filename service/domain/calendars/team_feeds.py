"""A programme team's private calendar feed, for the back office's calendars page.

Organiser feeds hang on an API token (`feeds.organiser_feed`): revoking the token ends the
feed, and the token's team decides which events it shows. A team's feed from the back
office uses a token of its own, made for that purpose only (read-only, bound to the team,
its secret never shown nor kept), so no account's sign-in and no API client is involved.
Showing the link changes nothing; replacing it revokes the old one. Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, AccessToken, AccountRole, ApiToken
from service.domain import access
from service.domain.auth import create_api_token
from service.domain.calendars.feeds import issue_organiser_feed_token
from service.settings import Settings

FEED_TOKEN_NAME = "Team calendar feed"  # noqa: S105  (a label, not a secret)


async def _feed_api_token(db: AsyncSession, team_id: int) -> ApiToken | None:
    return await db.scalar(
        select(ApiToken)
        .where(ApiToken.team_id == team_id, ApiToken.name == FEED_TOKEN_NAME,
               ApiToken.role == AccountRole.VIEWER.value, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc()).limit(1))


async def team_feed_tokens(db: AsyncSession, team_ids: list[int], *, settings: Settings
                           ) -> dict[int, str]:
    """The live feed token of each team that has one (none is issued)."""
    if not team_ids:
        return {}
    rows = await db.execute(
        select(ApiToken.team_id, AccessToken)
        .join(AccessToken, AccessToken.api_token_id == ApiToken.id)
        .where(ApiToken.team_id.in_(team_ids), ApiToken.name == FEED_TOKEN_NAME,
               ApiToken.revoked_at.is_(None), AccessToken.revoked_at.is_(None),
               AccessToken.purpose == AccessPurpose.ORGANISER_FEED)
        .order_by(AccessToken.id))
    return {team_id: access.token_for(token, settings.secret_key)
            for team_id, token in rows if team_id is not None}


async def replace_team_feed_token(db: AsyncSession, team_id: int, *, now: datetime,
                                  settings: Settings) -> str:
    """A new private feed link for the team (the first, or in place of the old one)."""
    api_token = await _feed_api_token(db, team_id)
    if api_token is None:
        api_token = (await create_api_token(db, name=FEED_TOKEN_NAME,
                                            role=AccountRole.VIEWER.value, now=now)).api_token
        api_token.team_id = team_id
        await db.flush()
    return await issue_organiser_feed_token(db, api_token.id, now=now, settings=settings)
