"""Typed handler parameters shared by the controllers (Litestar 3-style declarations)."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import PathParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings
from service.web.registration_desk import RegistrationDesk

DbSession = NamedDependency[AsyncSession]
SettingsDep = NamedDependency[Settings]
RegistrationDeskDep = NamedDependency[RegistrationDesk]
IdParam = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
