"""Procura Events: the service package.

Importing it first points zoneinfo at the pinned `tzdata` package (see `service.zones`), so
that every module of the service, and the libraries it uses, read one time-zone database.
"""

from service import zones as _zones  # noqa: F401  (imported for its effect, before any zone)
