"""A session's materials: links organisers share with it, before or after it takes place
(the slides, the recording, a report of the day).

Public materials are on the event page and in its API; materials for registrants only (a
recording, say) are on the private page of whoever holds a place in the session (a confirmed
registration with a confirmed place there), never in public output. Their titles are
translated with the event's texts (`programme.translations`, targets `material-N`). Domain
only: takes `db` and `now`, flushes, never commits, knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ContentTranslation,
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
    SessionMaterial,
)
from service.domain.errors import InvalidInputError
from service.domain.link_lists import Link, check_links
from service.domain.programme.loading import get_session
from service.i18n import gettext as _

# Per session and audience: more would be a library, not a session's materials.
MAX_MATERIALS = 30
PUBLIC, FOR_REGISTRANTS = "public", "for_registrants"


def material_key(material_id: int) -> str:
    """The translation target of a material's title ("material-7")."""
    return f"material-{material_id}"


async def session_materials(db: AsyncSession, session_ids: Iterable[int], *,
                            for_registrants: bool = False) -> dict[int, list[SessionMaterial]]:
    """Each session's materials in the organisers' order: the public ones only, or with
    `for_registrants` those for registrants only as well (public first)."""
    ids = sorted(set(session_ids))
    found: dict[int, list[SessionMaterial]] = {session_id: [] for session_id in ids}
    if not ids:
        return found
    query = select(SessionMaterial).where(SessionMaterial.session_id.in_(ids))
    if not for_registrants:
        query = query.where(SessionMaterial.is_for_registrants.is_(False))
    for material in await db.scalars(query.order_by(SessionMaterial.session_id,
                                                    SessionMaterial.is_for_registrants,
                                                    SessionMaterial.position)):
        found[material.session_id].append(material)
    return found


async def event_materials(db: AsyncSession, event: Event) -> list[SessionMaterial]:
    """Every material of the loaded event's sessions, session by session (their titles are
    among the event's texts to translate)."""
    found = await session_materials(db, [s.id for s in event.sessions], for_registrants=True)
    return [material for session in event.sessions for material in found[session.id]]


def holds_a_place(registration: Registration, enrolment: Enrolment) -> bool:
    """Who may read a session's materials for registrants: a confirmed place in it."""
    return _holds(registration.status, enrolment.status)


def _holds(registration_status: str, enrolment_status: str) -> bool:
    return (registration_status == RegistrationStatus.CONFIRMED
            and enrolment_status == EnrolmentStatus.CONFIRMED)


async def materials_of_registrations(db: AsyncSession, registration_ids: Iterable[int], *,
                                     session_id: int | None = None
                                     ) -> dict[int, list[SessionMaterial]]:
    """What each registration may read of its sessions' materials (`session_id`: of that
    session only): the public ones of each session it has not given up, and those for
    registrants only where it holds a place; by session, public first."""
    ids = sorted(set(registration_ids))
    found: dict[int, list[SessionMaterial]] = {registration_id: [] for registration_id in ids}
    if not ids:
        return found
    query = (select(Enrolment.registration_id, Enrolment.session_id, Registration.status,
                    Enrolment.status)
             .join(Registration, Registration.id == Enrolment.registration_id)
             .where(Enrolment.registration_id.in_(ids),
                    Enrolment.status != EnrolmentStatus.CANCELLED))
    if session_id is not None:
        query = query.where(Enrolment.session_id == session_id)
    places = (await db.execute(query)).all()
    shared = await session_materials(db, {row[1] for row in places}, for_registrants=True)
    for registration_id, place_session_id, registration_status, enrolment_status in places:
        holds = _holds(registration_status, enrolment_status)
        found[registration_id].extend(m for m in shared[place_session_id]
                                      if holds or not m.is_for_registrants)
    return found


def check_materials(public: Sequence[Link], for_registrants: Sequence[Link]
                    ) -> tuple[list[Link], list[Link]]:
    """Both lists as kept, or every problem at once (named `public[N].url`, ...)."""
    kept: list[list[Link]] = []
    problems = []
    for field, links in ((PUBLIC, public), (FOR_REGISTRANTS, for_registrants)):
        field_kept, field_problems = check_links(
            links, field, most=MAX_MATERIALS,
            too_many=_("At most %(count)s materials.") % {"count": MAX_MATERIALS},
            bad_address=_("Give each material's address, starting with https://."))
        kept.append(field_kept)
        problems.extend(field_problems)
    if problems:
        raise InvalidInputError.of(problems)
    return kept[0], kept[1]


async def set_materials(db: AsyncSession, session_id: int, *, public: Sequence[Link],
                        for_registrants: Sequence[Link], now: datetime
                        ) -> dict[int, list[SessionMaterial]]:
    """Replace the session's materials with these lists, all or nothing. A material kept
    (the same address for the same readers) keeps its row: its translations and the day it
    was first shared stay; a material left out is removed with its translations."""
    session = await get_session(db, session_id)
    kept_public, kept_for_registrants = check_materials(public, for_registrants)
    existing = {(m.url, m.is_for_registrants): m
                for m in await db.scalars(select(SessionMaterial)
                                          .where(SessionMaterial.session_id == session.id))}
    wanted = [(link, False) for link in kept_public] + \
        [(link, True) for link in kept_for_registrants]
    seen: set[tuple[str, bool]] = set()
    for position, (link, is_for_registrants) in enumerate(wanted):
        key = (link.url, is_for_registrants)
        if key in seen:
            continue  # the same link twice in one list is shared once
        seen.add(key)
        material = existing.pop(key, None)
        if material is None:
            db.add(SessionMaterial(session_id=session.id, title=link.title, url=link.url,
                                   is_for_registrants=is_for_registrants, position=position,
                                   shared_at=now))
            continue
        if material.title != link.title:
            material.title = link.title
        if material.position != position:
            material.position = position
    if existing:
        # One by one through the ORM, so that the audit log records each removal.
        for row in await db.scalars(select(ContentTranslation).where(
                ContentTranslation.event_id == session.event_id,
                ContentTranslation.target.in_([material_key(m.id) for m in existing.values()]))):
            await db.delete(row)
    for material in existing.values():
        await db.delete(material)
    await db.flush()
    return await session_materials(db, [session.id], for_registrants=True)
