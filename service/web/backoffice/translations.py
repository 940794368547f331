"""An event's content in other languages, in the back office: the default language (the one
its own texts are written in) and, one language at a time, the event's title, summary and
description, its sessions' and agenda items' titles and descriptions, and a Meet-your-Buyer
event's market consultation (subject, notice, questions to the market, the titles of the
documents it shares, its published questions and answers), and the event's own feedback
questions, in that language.

Reading needs an account that sees the event; changing needs an editor of it. Saving goes
through `service.domain.programme.translations` (all or nothing: a refused form comes back
with every problem beside its field and nothing stored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service.clock import utc_now
from service.db.models import (
    ConsultationDocument,
    ConsultationQuestion,
    Event,
    FeedbackQuestion,
    SessionMaterial,
)
from service.domain.errors import InvalidInputError
from service.domain.programme.feedback_questions import event_questions
from service.domain.programme.materials import event_materials
from service.domain.programme.translations import (
    AGENDA_ITEM_FIELDS,
    CHOICE_QUESTION_FIELDS,
    CONSULTATION_FIELDS,
    DOCUMENT_FIELDS,
    EVENT_FIELDS,
    MATERIAL_FIELDS,
    QUESTION_FIELDS,
    SESSION_FIELDS,
    Target,
    TextChange,
    consultation_targets,
    fields_of,
    set_default_language,
    set_translations,
    target_key,
    translation_languages,
    translation_progress,
    translations_of,
)
from service.i18n import LANGUAGE_NAMES, LANGUAGES, pgettext
from service.i18n import gettext as _
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.forms import field_errors, text
from service.web.backoffice.guards import (
    BACKOFFICE_PATH,
    CurrentAccount,
    require_account,
    require_editor,
)
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam

# The longest text a form field may carry (the description's limit, plus room to refuse).
_FORM_LIMIT = max(*EVENT_FIELDS.values(), *SESSION_FIELDS.values(),
                  *AGENDA_ITEM_FIELDS.values(), *CONSULTATION_FIELDS.values(),
                  *DOCUMENT_FIELDS.values(), *MATERIAL_FIELDS.values(),
                  *QUESTION_FIELDS.values(), *CHOICE_QUESTION_FIELDS.values()) + 1
# Written in a text area (the others in one line).
_LONG_FIELDS = frozenset({"description", "registrant_note", "notice_text",
                          "market_questions", "question", "answer", "choices"})


@dataclass(frozen=True)
class TextField:
    """One text to translate: its form name (also its id), what it is, the default text."""

    name: str
    label: str
    original: str
    is_long: bool
    limit: int


@dataclass(frozen=True)
class FieldGroup:
    heading: str
    fields: list[TextField]


def _field_name(target: Target, field: str) -> str:
    return f"{target_key(target)}-{field}"


def _label(field: str) -> str:
    labels = {"title": _("Title"), "summary": _("Summary"), "description": _("Description"),
              "subject": _("Subject of the upcoming procurement"),
              "notice_text": pgettext("procurement", "Notice"),
              "market_questions": _("What the buyer asks the market"),
              "registrant_note": _("What registrants need to know")}
    return labels[field]


def _item_label(field: str, time: str) -> str:
    """An agenda item has no heading of its own on the page: its time names it."""
    labels = {"title": _("Agenda item at %(time)s: title"),
              "description": _("Agenda item at %(time)s: description")}
    return labels[field] % {"time": time}


def _consultation_label(target: Target, field: str, number: int) -> str:
    """A shared document or a published question is named by its place on the page."""
    if isinstance(target, ConsultationDocument):
        return _("Document %(number)s: title") % {"number": number}
    labels = {"question": _("Question %(number)s"), "answer": _("Answer to question %(number)s")}
    return labels[field] % {"number": number}


def _material_label(field: str, number: int) -> str:
    """A session's material is named by its place in the session's list."""
    return _("Material %(number)s: title") % {"number": number}


def _feedback_question_label(field: str, number: int) -> str:
    if field == "choices":
        return _("Feedback question %(number)s: its choices, one a line") % {"number": number}
    return _("Feedback question %(number)s") % {"number": number}


@dataclass(frozen=True)
class OtherTexts:
    """The event's texts not loaded with it."""

    materials: Sequence[SessionMaterial]
    consultation: list[Target]
    feedback_questions: Sequence[FeedbackQuestion]

    def targets(self) -> list[Target]:
        return [*self.materials, *self.consultation, *self.feedback_questions]


async def _other_texts(db: AsyncSession, event: Event) -> OtherTexts:
    return OtherTexts(await event_materials(db, event), await consultation_targets(db, event.id),
                      await event_questions(db, event.id))


def _groups(event: Event, others: OtherTexts
            ) -> list[tuple[FieldGroup, list[tuple[Target, str]]]]:
    """The event's texts to translate, grouped for the page: the event, then each session
    with its agenda items and materials (`event_materials`), then its market consultation
    (`consultation_targets`), then its own feedback questions (`event_questions`)."""
    materials, consultation = others.materials, others.consultation
    def fields(target: Target, label: Callable[[str], str] = _label
               ) -> tuple[list[TextField], list[tuple[Target, str]]]:
        shown, keys = [], []
        for field, limit in fields_of(target).items():
            shown.append(TextField(_field_name(target, field), label(field),
                                   str(getattr(target, field) or ""),
                                   field in _LONG_FIELDS, limit))
            keys.append((target, field))
        return shown, keys

    shown, keys = fields(event)
    groups = [(FieldGroup(_("The event"), shown), keys)]
    for session in event.sessions:
        shown, keys = fields(session)
        for item in session.agenda_items:
            item_shown, item_keys = fields(item)
            time = item.starts_at.astimezone(ZoneInfo(event.timezone)).strftime("%H:%M")
            shown += [TextField(f.name, _item_label(field, time), f.original, f.is_long, f.limit)
                      for f, (_target, field) in zip(item_shown, item_keys, strict=True)]
            keys += item_keys
        own = [material for material in materials if material.session_id == session.id]
        for number, material in enumerate(own, start=1):
            material_shown, material_keys = fields(material,
                                                   partial(_material_label, number=number))
            shown += material_shown
            keys += material_keys
        groups.append((FieldGroup(_("Session: %(title)s") % {"title": session.title}, shown),
                       keys))
    if consultation:
        shown, keys = [], []
        numbers = {ConsultationDocument: 0, ConsultationQuestion: 0}
        for target in consultation:
            label = _label
            if isinstance(target, ConsultationDocument | ConsultationQuestion):
                numbers[type(target)] += 1
                label = partial(_consultation_label, target, number=numbers[type(target)])
            target_shown, target_keys = fields(target, label)
            shown += target_shown
            keys += target_keys
        groups.append((FieldGroup(_("Market consultation"), shown), keys))
    if others.feedback_questions:
        shown, keys = [], []
        for number, question in enumerate(others.feedback_questions, start=1):
            question_shown, question_keys = fields(
                question, partial(_feedback_question_label, number=number))
            shown += question_shown
            keys += question_keys
        groups.append((FieldGroup(_("Feedback questions"), shown), keys))
    return groups


def _chosen(event: Event, language: str | None) -> str:
    """The language to show: the one asked for, else the first the event is not written in."""
    offered = translation_languages(event)
    return language if language in offered else offered[0]


class TranslationsController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    async def _page(self, request: AnyRequest, db: AsyncSession, account: CurrentAccount,
                    event: Event, language: str, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, saved: str | None = None,
                    status_code: int = 200) -> Response[Any]:
        texts = translations_of(event)
        others = await _other_texts(db, event)
        groups = _groups(event, others)
        if values is None:
            values = {_field_name(target, field): texts.get((target_key(target), language,
                                                             field), "")
                      for _group, keys in groups for target, field in keys}
        return organiser_page(request, "event_translations.html", {
            "title": _("Translations: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "section": "translations",
            "default_language": event.default_language,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "tabs": [(code, LANGUAGE_NAMES[code], done, total)
                     for code, (done, total)
                     in translation_progress(event, others.targets()).items()],
            "language": language, "language_name": LANGUAGE_NAMES[language],
            "groups": [group for group, _keys in groups],
            "values": values, "errors": errors or {}, "saved": saved,
        }, status_code=status_code)

    @get("/events/{event_id:int}/translations")
    async def show_translations(
        self, request: AnyRequest, db_session: DbSession, account: CurrentAccount,
        event_id: IdParam, language: Annotated[str | None, QueryParameter()] = None,
        saved: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        notice = {"texts": _("The translations are saved."),
                  "language": _("The default language is saved.")}.get(saved or "")
        return await self._page(request, db_session, account, event, _chosen(event, language),
                                saved=notice)

    @post("/events/{event_id:int}/translations", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def save_translations(self, request: AnyRequest, db_session: DbSession,
                                account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        """Every text of one language at once; an empty field removes its translation."""
        event = await event_for(db_session, account, event_id, editing=True)
        form: FormMultiDict = await request.form()
        language = text(form, "language", 8)
        if language not in translation_languages(event):
            return await self._page(
                request, db_session, account, event, _chosen(event, None),
                errors={"language": _("Choose a language other than the event's own.")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        changes: list[TextChange] = []
        values: dict[str, str] = {}
        for _group, keys in _groups(event, await _other_texts(db_session, event)):
            for target, field in keys:
                name = _field_name(target, field)
                values[name] = text(form, name, _FORM_LIMIT)
                changes.append(TextChange(target, language, field, values[name], name))
        try:
            await set_translations(db_session, event.id, changes, now=utc_now())
        except InvalidInputError as refused:
            return await self._page(request, db_session, account, event, language,
                                    values=values, errors=field_errors(refused),
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event.id}/translations?language={language}"
                        "&saved=texts", status_code=HTTP_303_SEE_OTHER)

    @post("/events/{event_id:int}/translations/default-language", guards=[require_editor],
          status_code=HTTP_303_SEE_OTHER)
    async def change_default_language(self, request: AnyRequest, db_session: DbSession,
                                      account: CurrentAccount, event_id: IdParam
                                      ) -> Response[Any]:
        """Say which language the event's own texts are written in."""
        event = await event_for(db_session, account, event_id, editing=True)
        form: FormMultiDict = await request.form()
        try:
            await set_default_language(db_session, event.id, text(form, "default_language", 8),
                                       now=utc_now())
        except InvalidInputError as refused:
            return await self._page(request, db_session, account, event, _chosen(event, None),
                                    errors=field_errors(refused),
                                    status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Redirect(f"{BACKOFFICE_PATH}/events/{event.id}/translations?saved=language",
                        status_code=HTTP_303_SEE_OTHER)
