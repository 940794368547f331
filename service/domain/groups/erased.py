"""Group members and guests whose personal data was erased: they are sent nothing more.

Erasure (service.domain.privacy) keeps a member's row, organisation and status, so the
group's member organisations stay right, but replaces the name and address by placeholders
(the address `erased-<random>@invalid`, RFC 2606: never deliverable) and says when in
`erased_at`. Every query that picks whom to email or remind adds `is_reachable(...)`, so an
erased member gets no more series invites or reminders, and an erased guest no more changes
of their occurrence.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from service.db.models import GroupMember, MeetingGuest


def is_reachable(kind: type[GroupMember] | type[MeetingGuest]) -> ColumnElement[bool]:
    """The row (a member or a guest) was not erased."""
    return kind.erased_at.is_(None)


def is_erased(person: GroupMember | MeetingGuest) -> bool:
    return person.erased_at is not None
