"""Checks on single values that several programme commands share.

Places (an event's and a session's), country codes (an organisation's and a venue's) and
references to an organisation (a person's, a host's, a speaker's). Each refuses bad input
with the field named; none of them writes anything.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Organisation
from service.domain.errors import InvalidInputError
from service.i18n import gettext as _


def country_code(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvalidInputError(_("Use a two-letter ISO 3166 country code, e.g. 'BE'."), field)
    return code


def check_places(value: int | None, field: str) -> int | None:
    if value is not None and value < 1:
        raise InvalidInputError(_("Places must be at least 1 (leave it empty for no limit)."), field)
    return value


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
