"""An event's own feedback questions, in the back office: one row per question (its
wording, how it is answered, a choice question's choices one a line, whether it is
required), and empty rows to add more; a row left empty drops its question (and its
answers). Saving goes through `programme.feedback_questions.set_questions`, all or
nothing: a refused form comes back with every problem beside its row. Editors of the event
only.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service.clock import utc_now
from service.db.models import Event, FeedbackQuestion, QuestionKind
from service.domain.errors import InvalidInputError
from service.domain.programme.feedback_questions import (
    MAX_CHOICE,
    MAX_CHOICES,
    MAX_QUESTION,
    MAX_QUESTIONS,
    QuestionDraft,
    event_questions,
    set_questions,
)
from service.i18n import N_
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.forms import text
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_editor
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

KINDS = {QuestionKind.RATING: N_("A rating from 1 (lowest) to 5 (highest)"),
         QuestionKind.TEXT: N_("In their own words"),
         QuestionKind.CHOICE: N_("One of your choices")}
EMPTY_ROWS = 3
# A choices box's longest text: every choice at its longest, a line each, and room to refuse.
CHOICES_LIMIT = MAX_CHOICES * (MAX_CHOICE + 1) + 1


def _rows(questions: list[FeedbackQuestion]) -> dict[str, str]:
    """The form's values for the stored questions, row by row from 1 (a new row's answer
    in their own words, unless changed)."""
    values = {f"question-{number}-kind": QuestionKind.TEXT.value
              for number in range(1, MAX_QUESTIONS + 1)}
    for number, question in enumerate(questions, start=1):
        values.update({f"question-{number}-id": str(question.id),
                       f"question-{number}-text": question.text,
                       f"question-{number}-kind": question.kind.value,
                       f"question-{number}-choices": question.choices,
                       f"question-{number}-required": "on" if question.required else ""})
    return values


def _read(form: FormMultiDict, rows: int) -> tuple[list[QuestionDraft], list[int],
                                                    dict[str, str], dict[str, str]]:
    """The questions as typed (rows with words), the row each came from, every row's values
    to show again, and the rows' own problems (choices without a question)."""
    drafts, numbers, values, errors = [], [], {}, {}
    for number in range(1, rows + 1):
        name = f"question-{number}"
        row = {f"{name}-{part}": text(form, f"{name}-{part}", limit)
               for part, limit in (("id", 12), ("text", MAX_QUESTION + 1), ("kind", 20),
                                   ("choices", CHOICES_LIMIT), ("required", 4))}
        values.update(row)
        if not row[f"{name}-text"].strip():
            if row[f"{name}-choices"].strip():
                errors[f"{name}-choices"] = _("Write the question's wording above, or "
                                              "empty its choices to remove it.")
            continue
        typed_id = row[f"{name}-id"]
        drafts.append(QuestionDraft(
            text=row[f"{name}-text"], kind=row[f"{name}-kind"],
            required=bool(row[f"{name}-required"]),
            id=int(typed_id) if typed_id.isdigit() and len(typed_id) < 10 else None,
            choices=row[f"{name}-choices"].splitlines()))
        numbers.append(number)
    return drafts, numbers, values, errors


def _row_errors(refused: InvalidInputError, numbers: list[int]) -> dict[str, str]:
    """The domain's `questions[2].kind` as the form's `question-4-kind` (its row)."""
    errors: dict[str, str] = {}
    for problem in refused.errors:
        field = problem.field or "questions"
        if field.startswith("questions[") and "]." in field:
            index, part = field.removeprefix("questions[").split("].", 1)
            if index.isdigit() and int(index) < len(numbers):
                field = f"question-{numbers[int(index)]}-{'text' if part == 'id' else part}"
        errors.setdefault(field, problem.message)
    return errors


_ROW_FIELDS = ("text", "kind", "choices")


def _row_order(item: tuple[str, str]) -> tuple[int, int]:
    """Problems in the rows' order, each row's in the form's ("question-3-kind")."""
    _question, number, part = [*item[0].split("-", 2), "", ""][:3]
    return (int(number) if number.isdigit() else 0,
            _ROW_FIELDS.index(part) if part in _ROW_FIELDS else len(_ROW_FIELDS))


class FeedbackQuestionsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_editor]
    include_in_schema = False

    async def _page(self, request: AnyRequest, account: CurrentAccount, event: Event,
                    values: dict[str, str], rows: int, *, errors: dict[str, str] | None = None,
                    saved: bool = False, status_code: int = 200) -> Response[Any]:
        return organiser_page(request, "feedback_questions.html", {
            "title": _("Your feedback questions: %(title)s") % {"title": event.title},
            "nav": "events", "event": heading(event, account), "values": values,
            "rows": range(1, rows + 1), "kinds": [(k.value, _(label)) for k, label in KINDS.items()],
            "errors": errors or {}, "saved": saved, "max_questions": MAX_QUESTIONS,
            "max_length": MAX_QUESTION, "choices_limit": CHOICES_LIMIT,
            "max_choices": MAX_CHOICES,
        }, status_code=status_code)

    @get("/events/{event_id:int}/feedback/questions")
    async def show_questions(self, request: AnyRequest, db_session: DbSession,
                             account: CurrentAccount, event_id: IdParam,
                             saved: Annotated[str | None, QueryParameter(max_length=10)] = None
                             ) -> Response[Any]:
        event = await event_for(db_session, account, event_id, editing=True)
        questions = await event_questions(db_session, event.id)
        return await self._page(request, account, event, _rows(questions),
                                min(len(questions) + EMPTY_ROWS, MAX_QUESTIONS),
                                saved=saved == "true")

    @post("/events/{event_id:int}/feedback/questions", status_code=HTTP_303_SEE_OTHER)
    async def save_questions(self, request: AnyRequest, db_session: DbSession,
                             account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """Every question at once; an empty row drops its question."""
        event = await event_for(db_session, account, event_id, editing=True)
        drafts, numbers, values, errors = _read(await request.form(), MAX_QUESTIONS)
        try:
            await set_questions(db_session, event.id, drafts, now=utc_now())
        except InvalidInputError as refused:
            errors = {**errors, **_row_errors(refused, numbers)}
        if errors:
            await db_session.rollback()
            event = await event_for(db_session, account, event_id, editing=True)
            shown = max([n for n in range(1, MAX_QUESTIONS + 1)
                         if values.get(f"question-{n}-text") or values.get(f"question-{n}-id")
                         or values.get(f"question-{n}-choices")]
                        + [len(drafts) + EMPTY_ROWS])
            return await self._page(request, account, event, values,
                                    min(shown, MAX_QUESTIONS),
                                    errors=dict(sorted(errors.items(), key=_row_order)),
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event.id}/feedback/questions?saved=true",
                        status_code=HTTP_303_SEE_OTHER)
