"""Reading back-office forms: text fields trimmed and bounded, lists of ids, the choice of a
team, domain errors turned into the per-field messages the templates show beside each field."""

from __future__ import annotations

from litestar.datastructures import FormMultiDict
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event
from service.domain.accounts import SignedInAccount, chosen_team, list_teams, team_choices
from service.domain.errors import ConflictError, DomainError
from service.i18n import LANGUAGE_NAMES, LANGUAGES

FORM_LEVEL = "form"
# The event and group forms' choice of team, shown to accounts with more than one to choose.
TEAM_FIELD = "team_id"


def text(form: FormMultiDict, name: str, limit: int = 300) -> str:
    """A field, stripped and cut at `limit`: one past what the domain takes, so that a longer
    text is refused by name instead of saved cut short."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def ids(form: FormMultiDict, name: str) -> list[int]:
    """The whole numbers sent under `name` (checkboxes); anything else is left out."""
    found: list[int] = []
    for raw in form.getall(name, []):
        if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
            found.append(int(raw))
    return found


def other_languages(event: Event) -> list[tuple[str, str]]:
    """The languages besides the event's default that an organiser's words to registrants
    can also be written in, with their names (codes in the service's order)."""
    return [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES
            if code != event.default_language]


def translations_typed(form: FormMultiDict, prefix: str) -> dict[str, str]:
    """What was typed under `<prefix>_<language>` for each language the service speaks."""
    return {code: value for code in LANGUAGES
            if isinstance(value := form.get(f"{prefix}_{code}"), str) and value}


async def team_options(db: AsyncSession, account: SignedInAccount) -> list[tuple[str, str]]:
    """The teams an event or a group may be put in; none when there is no choice to make."""
    choices = team_choices(account, await list_teams(db))
    return [(str(team.id), team.name) for team in choices] if len(choices) > 1 else []


async def read_team(db: AsyncSession, text: str, account: SignedInAccount
                    ) -> tuple[bool, int | None]:
    """Whether a team was chosen, and the team to store (None: the default team); a team the
    account may not use is refused (InvalidInputError naming `team_id`)."""
    text = text.strip()
    if not text:
        return False, None
    team_id = int(text) if text.isdecimal() and len(text) < 10 else None
    return True, chosen_team(account, await list_teams(db), team_id)


def field_errors(error: DomainError) -> dict[str, str]:
    """Every rule the domain says was broken, by field (the first message per field)."""
    errors: dict[str, str] = {}
    for problem in error.errors:
        errors.setdefault(problem.field or FORM_LEVEL, problem.message)
    return errors


def refusal_status(error: DomainError) -> int:
    """409 when the request clashes with what is stored, 422 when what was sent is wrong."""
    return HTTP_409_CONFLICT if isinstance(error, ConflictError) else HTTP_422_UNPROCESSABLE_ENTITY
