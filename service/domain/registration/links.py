"""A registrant's private links (manage page, personal feed), as every email to them carries.

Tokens are issued on first use and kept (`service.domain.access`); the URLs are built by
`service.domain.urls`, the one home of public URLs. Nothing here sends an email.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, Registration
from service.domain import access
from service.domain.emails import registration as emails
from service.domain.urls import manage_url, registration_feed_url
from service.settings import Settings


async def registrant_links(
    db: AsyncSession, registration: Registration, *, now: datetime, settings: Settings,
    manage_token: str | None = None, feed_token: str | None = None,
) -> emails.RegistrantLinks:
    """The registrant's private links (manage page, personal feed), issued on first use."""
    if manage_token is None:
        manage_token = await access.current_access_token(
            db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key, now=now,
            registration_id=registration.id,
        )
    if feed_token is None:
        feed_token = await access.current_access_token(
            db, AccessPurpose.REGISTRATION_FEED, secret_key=settings.secret_key, now=now,
            registration_id=registration.id,
        )
    return links_from_tokens(settings, manage_token, feed_token)


def links_from_tokens(settings: Settings, manage_token: str, feed_token: str
                      ) -> emails.RegistrantLinks:
    """The links for tokens already at hand (the composing job reads them in bulk)."""
    return emails.RegistrantLinks(
        manage_url=manage_url(settings, manage_token),
        feed_url=registration_feed_url(settings, feed_token),
    )
