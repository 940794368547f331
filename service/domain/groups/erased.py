"""Group members and guests whose personal data was erased: they are sent nothing more.

Erasure (service.domain.privacy) keeps a member's row, organisation and status, so the
group's member organisations stay right, but replaces the address by `erased-<random>@invalid`
(RFC 2606: never deliverable). Every query that picks whom to email or remind adds
`is_reachable(...)`, so an erased member gets no more series invites or reminders, and an
erased guest no more changes of their occurrence.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

# The shape of `service.domain.privacy.erasure.erased_address()`, as a LIKE pattern.
ERASED_ADDRESS_PATTERN = "erased-%@invalid"


def is_reachable(address_column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """The row's address was not erased."""
    return address_column.not_like(ERASED_ADDRESS_PATTERN)


def is_erased(address: str) -> bool:
    return address.startswith("erased-") and address.endswith("@invalid")
