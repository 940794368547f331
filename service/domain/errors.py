"""Errors the domain raises; the web layer maps each kind to one HTTP status in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One rule broken: the field at fault (dotted path, None for the whole input) and a
    sentence that says what to change."""

    field: str | None
    message: str


class DomainError(Exception):
    """Base class: carries the field at fault (dotted path) when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> tuple[FieldError, ...]:
        """Every rule broken; most errors name one."""
        return (FieldError(self.field, self.message),)


class InvalidInputError(DomainError):
    """Well-formed input that breaks a rule (end before start, DST gap...): HTTP 422."""

    def __init__(self, message: str, field: str | None = None, *,
                 errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message, field)
        self._errors = tuple(errors)

    @property
    def errors(self) -> tuple[FieldError, ...]:
        return self._errors or super().errors

    @classmethod
    def of(cls, errors: Sequence[FieldError]) -> InvalidInputError:
        """One error for a form that broke several rules, so all are reported at once."""
        if not errors:
            raise ValueError("no errors to report")
        first = errors[0]
        if len(errors) == 1:
            return cls(first.message, first.field)
        detail = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        return cls(detail, first.field, errors=errors)


class NotFoundError(DomainError):
    """Unknown id, slug or token: HTTP 404 (and for tokens, nothing more is revealed)."""


class ConflictError(DomainError):
    """The request clashes with the current state (slug taken, registration closed): HTTP 409."""


class PermissionDeniedError(DomainError):
    """Authenticated but not allowed: HTTP 403."""
