"""Checks on single values that several programme commands share.

Places (an event's and a session's), country codes (an organisation's and a venue's) and
references to an organisation (a person's, a host's, a speaker's). Each refuses bad input
with the field named; none of them writes anything.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Organisation
from service.domain.errors import ConflictError, InvalidInputError
from service.i18n import gettext as _


def country_code(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvalidInputError(_("Use a two-letter ISO 3166 country code, e.g. 'BE'."), field)
    return code


# The most places an event or a session has (the API's and the forms' bound too); beyond
# it, leave the limit empty.
MAX_PLACES = 100_000


def check_places(value: int | None, field: str) -> int | None:
    if value is not None and value < 1:
        raise InvalidInputError(_("Places must be at least 1 (leave it empty for no limit)."), field)
    if value is not None and value > MAX_PLACES:
        raise InvalidInputError(_("At most %(count)s places (leave it empty for no limit).")
                                % {"count": MAX_PLACES}, field)
    return value


def one_more_place(taken: int, field: str) -> int:
    """The limit that leaves exactly one place free where `taken` are taken (an organiser
    adding a place for someone), within the most places there can be."""
    if taken + 1 > MAX_PLACES:
        raise ConflictError(_("At most %(count)s places: no place can be added. Leave the "
                              "limit empty for no limit.") % {"count": MAX_PLACES}, field)
    return taken + 1


def lets_more_in(current: int | None, new: int | None) -> bool:
    """True when a change of places lets more people in (None means no limit)."""
    if current is None:
        return False
    return new is None or new > current


async def check_organisation_exists(
    db: AsyncSession, organisation_id: int | None, field: str
) -> None:
    if organisation_id is not None and await db.get(Organisation, organisation_id) is None:
        raise InvalidInputError(_("No organisation with id %(organisation_id)s.")
                                    % {"organisation_id": organisation_id}, field)
