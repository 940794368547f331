"""Typed handler parameters shared by the controllers (Litestar 3-style declarations)."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from service.web.registration_desk import RegistrationDesk

DbSession = NamedDependency[AsyncSession]
SettingsDep = NamedDependency[Settings]
RegistrationDeskDep = NamedDependency[RegistrationDesk]
IdParam = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
# An optional id in the query (`?session=12`): a number no id column overflows, or a 400.
OptionalIdQuery = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
# Every other path parameter: text without control characters (a NUL cannot even be sent to
# PostgreSQL), of a length no link of ours comes near. Anything else is a 400 naming it.
PATH_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"
PATH_TEXT_MAX = 200
PathText = Annotated[
    str, PathParameter(min_length=1, max_length=PATH_TEXT_MAX, pattern=PATH_TEXT_PATTERN)
]
# A private link's token: path text; a well-formed unknown one is a 404 like any other.
TokenParam = Annotated[
    str, PathParameter(description="The private token of the link.", min_length=1,
                       max_length=PATH_TEXT_MAX, pattern=PATH_TEXT_PATTERN)
]
