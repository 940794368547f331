"""Errors the domain raises; the web layer maps each kind to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: carries the field at fault (dotted path) when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInputError(DomainError):
    """Well-formed input that breaks a rule (end before start, DST gap...): HTTP 422."""


class NotFoundError(DomainError):
    """Unknown id, slug or token: HTTP 404 (and for tokens, nothing more is revealed)."""


class ConflictError(DomainError):
    """The request clashes with the current state (slug taken, registration closed): HTTP 409."""


class PermissionDeniedError(DomainError):
    """Authenticated but not allowed: HTTP 403."""
