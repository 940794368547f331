"""Reading back-office forms: text fields trimmed and bounded, lists of ids, domain errors
turned into the per-field messages the templates show beside each field."""

from __future__ import annotations

from litestar.datastructures import FormMultiDict
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from service.domain.errors import ConflictError, DomainError

FORM_LEVEL = "form"


def text(form: FormMultiDict, name: str, limit: int = 300) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def ids(form: FormMultiDict, name: str) -> list[int]:
    """The whole numbers sent under `name` (checkboxes); anything else is left out."""
    found: list[int] = []
    for raw in form.getall(name, []):
        if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
            found.append(int(raw))
    return found


def field_errors(error: DomainError) -> dict[str, str]:
    """Every rule the domain says was broken, by field (the first message per field)."""
    errors: dict[str, str] = {}
    for problem in error.errors:
        errors.setdefault(problem.field or FORM_LEVEL, problem.message)
    return errors


def refusal_status(error: DomainError) -> int:
    """409 when the request clashes with what is stored, 422 when what was sent is wrong."""
    return HTTP_409_CONFLICT if isinstance(error, ConflictError) else HTTP_422_UNPROCESSABLE_ENTITY
