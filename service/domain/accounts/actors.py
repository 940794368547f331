"""Who is acting on a database session: an organiser account or an API token.

The web layer sets it on the request's session (`db.info`) once it knows who calls; the
audit log reads it from there, so domain functions need no extra argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

ACTOR_KEY = "actor"


@dataclass(frozen=True)
class Actor:
    label: str  # "Ana Pérez <ana@example.org>", "API token #3 (Reporting)"
    account_id: int | None = None
    api_token_id: int | None = None


def set_actor(db: AsyncSession, actor: Actor) -> None:
    db.info[ACTOR_KEY] = actor


def actor_of(db: AsyncSession | Session) -> Actor | None:
    actor = db.info.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None
