"""The events' own content in several languages: storing translations and reading them.

An event's columns (its title, summary and description, its sessions' and agenda items'
titles and descriptions, and a Meet-your-Buyer event's market consultation: its subject,
notice and questions to the market, its shared documents' titles and its published questions
and answers; its own feedback questions) are written in the event's `default_language`; the same texts in
other languages are `ContentTranslation` rows, one per target, language and field. Reading
asks for a text in a language and falls back to the default-language column when there is
no translation, so a half-translated event still shows every text. Domain only: takes `db` and `now`,
flushes, never commits, knows no HTTP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.base import NO_VALUE

from service.db.models import (
    AgendaItem,
    ConsultationDocument,
    ConsultationProfile,
    ConsultationQuestion,
    ContentTranslation,
    Event,
    FeedbackQuestion,
    QuestionKind,
    Session,
    SessionMaterial,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.programme.feedback_questions import (
    MAX_CHOICE,
    MAX_CHOICES,
    choice_list,
    question_key,
)
from service.domain.programme.loading import get_event
from service.domain.programme.loading import title_matches as title_matches
from service.domain.programme.materials import material_key
from service.domain.text import has_control
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES
from service.i18n import gettext as _

EVENT_TARGET = "event"
CONSULTATION_TARGET = "consultation"
# What may be translated, per kind of target, and at most how long (as the columns allow).
EVENT_FIELDS: dict[str, int] = {"title": 300, "summary": 2_000, "description": 20_000,
                                "registrant_note": 4_000}
SESSION_FIELDS: dict[str, int] = {"title": 300, "description": 20_000}
AGENDA_ITEM_FIELDS: dict[str, int] = {"title": 500, "description": 20_000}
CONSULTATION_FIELDS: dict[str, int] = {"subject": 500, "notice_text": 20_000,
                                       "market_questions": 20_000}
DOCUMENT_FIELDS: dict[str, int] = {"title": 300}
MATERIAL_FIELDS: dict[str, int] = {"title": 300}
QUESTION_FIELDS: dict[str, int] = {"question": 4_000, "answer": 20_000}
FEEDBACK_QUESTION_FIELDS: dict[str, int] = {"text": 500}
# A choice question's choices too: one a line, as many as it has, in its order.
CHOICE_QUESTION_FIELDS: dict[str, int] = {**FEEDBACK_QUESTION_FIELDS,
                                          "choices": MAX_CHOICES * (MAX_CHOICE + 1)}
_MULTI_LINE_FIELDS = frozenset({"summary", "description", "registrant_note", "notice_text",
                                "market_questions", "choices",
                                "question", "answer", "agenda", "minutes"})

Target = (Event | Session | AgendaItem | SessionMaterial | ConsultationProfile
          | ConsultationDocument | ConsultationQuestion | FeedbackQuestion)


class Localised(str):
    """A text of an event's content and the language it is written in (for `lang`)."""

    language: str

    def __new__(cls, text: str, language: str) -> Localised:
        value = super().__new__(cls, text)
        value.language = language
        return value


def target_key(target: Target) -> str:
    """The key of a target within its event: "event", "session-12", "agenda-item-7",
    "material-4", "consultation", "document-3", "question-5", "feedback-question-2"."""
    if isinstance(target, Session):
        return f"session-{target.id}"
    if isinstance(target, AgendaItem):
        return f"agenda-item-{target.id}"
    if isinstance(target, SessionMaterial):
        return material_key(target.id)
    if isinstance(target, ConsultationProfile):
        return CONSULTATION_TARGET
    if isinstance(target, ConsultationDocument):
        return f"document-{target.id}"
    if isinstance(target, ConsultationQuestion):
        return f"question-{target.id}"
    if isinstance(target, FeedbackQuestion):
        return question_key(target.id)
    return EVENT_TARGET


def fields_of(target: Target) -> dict[str, int]:
    if isinstance(target, Session):
        return SESSION_FIELDS
    if isinstance(target, AgendaItem):
        return AGENDA_ITEM_FIELDS
    if isinstance(target, SessionMaterial):
        return MATERIAL_FIELDS
    if isinstance(target, ConsultationProfile):
        return CONSULTATION_FIELDS
    if isinstance(target, ConsultationDocument):
        return DOCUMENT_FIELDS
    if isinstance(target, ConsultationQuestion):
        return QUESTION_FIELDS
    if isinstance(target, FeedbackQuestion):
        return (CHOICE_QUESTION_FIELDS if target.kind == QuestionKind.CHOICE
                else FEEDBACK_QUESTION_FIELDS)
    return EVENT_FIELDS


def translation_languages(event: Event) -> list[str]:
    """The languages an event's texts may be translated into: all but its default."""
    return [code for code in LANGUAGES if code != event.default_language]


def _loaded_rows(event: Event) -> list[ContentTranslation]:
    """The event's translations if they were loaded with it (the event tree loads them)."""
    value = sa_inspect(event).attrs.content_translations.loaded_value
    return [] if value is NO_VALUE else list(value)


def translations_of(event: Event) -> dict[tuple[str, str, str], str]:
    """(target key, language, field) → text, from the loaded event."""
    return {(row.target, row.language, row.field): row.text for row in _loaded_rows(event)}


def texts_to_translate(event: Event, others: Sequence[Target] = ()
                       ) -> list[tuple[Target, str]]:
    """The loaded event's own texts that have words (an empty one has nothing to translate):
    the event's, then each session's followed by its agenda items', then the texts not
    loaded with the event (its sessions' materials, `materials.event_materials`, and its
    consultation's, `consultation_targets`)."""
    targets: list[Target] = [event]
    for session in event.sessions:
        targets.append(session)
        targets.extend(session.agenda_items)
    targets.extend(others)
    return [(target, field) for target in targets for field in fields_of(target)
            if str(getattr(target, field) or "").strip()]


def translation_progress(event: Event, others: Sequence[Target] = ()
                         ) -> dict[str, tuple[int, int]]:
    """Per language the event may be translated into: how many of its own texts are
    translated, of how many (so organisers see which languages are still missing texts)."""
    wanted = {(target_key(target), field)
              for target, field in texts_to_translate(event, others)}
    done = Counter(language for target, language, field in translations_of(event)
                   if (target, field) in wanted)
    return {language: (done[language], len(wanted)) for language in translation_languages(event)}


# --- reading ------------------------------------------------------------------------------


def localised(event: Event, field: str, language: str | None,
              target: Target | None = None) -> Localised:
    """`field` of `target` (the event itself by default) in `language`, or in the event's
    default language when there is no translation (or `language` is None)."""
    owner: Target = event if target is None else target
    default = str(getattr(owner, field) or "")
    if language is None or language == event.default_language:
        return Localised(default, event.default_language)
    for row in _loaded_rows(event):
        if (row.target == target_key(owner) and row.language == language
                and row.field == field):
            return Localised(row.text, language)
    return Localised(default, event.default_language)


def pick(texts: Mapping[tuple[str, str, str], str], default_language: str, target: str,
         field: str, default: str, language: str | None) -> Localised:
    """The same choice as `localised`, over rows read with `translations_by_event` (feeds
    read plain columns, not models)."""
    if language is not None and language != default_language:
        found = texts.get((target, language, field))
        if found is not None:
            return Localised(found, language)
    return Localised(default, default_language)


def choices_read(question: FeedbackQuestion, read: Callable[[Target, str], Localised],
                 default_language: str) -> list[Localised]:
    """A choice question's choices in the reader's language: its translation where that has
    each choice (a choice added since leaves it out of step: then all as written)."""
    written = choice_list(question.choices)
    translated = read(question, "choices")
    lines = choice_list(translated)
    if len(lines) == len(written):
        return [Localised(line, translated.language) for line in lines]
    return [Localised(line, default_language) for line in written]


async def consultation_profile(db: AsyncSession, event_id: int) -> ConsultationProfile | None:
    """A Meet-your-Buyer event's market consultation, whose texts are translated with the
    event's (None: no consultation written yet)."""
    profile: ConsultationProfile | None = await db.scalar(
        select(ConsultationProfile).where(ConsultationProfile.event_id == event_id))
    return profile


async def consultation_targets(db: AsyncSession, event_id: int) -> list[Target]:
    """A Meet-your-Buyer event's market consultation as texts to translate: its profile, the
    documents it shares (not the withdrawn ones) and its published questions and answers, in
    the order of its page; nothing when no consultation is written yet."""
    profile = await consultation_profile(db, event_id)
    if profile is None:
        return []
    documents = await db.scalars(
        select(ConsultationDocument)
        .where(ConsultationDocument.event_id == event_id,
               ConsultationDocument.withdrawn_at.is_(None))
        .order_by(ConsultationDocument.id))
    questions = await db.scalars(
        select(ConsultationQuestion)
        .where(ConsultationQuestion.event_id == event_id,
               ConsultationQuestion.answered_at.is_not(None))
        .order_by(ConsultationQuestion.asked_at, ConsultationQuestion.id))
    return [profile, *documents, *questions]


async def reader(db: AsyncSession, event_id: int, language: str | None
                 ) -> Callable[[Target, str], Localised]:
    """Reads `field` of one of the event's targets in `language`, as `localised` does, for
    targets that are not loaded with the event (its consultation's documents and answers)."""
    default_language = await db.scalar(select(Event.default_language)
                                       .where(Event.id == event_id)) or DEFAULT_LANGUAGE
    found = ((await translations_by_event(db, [event_id], language))[event_id]
             if language is not None else {})

    def read(target: Target, field: str) -> Localised:
        return pick(found, default_language, target_key(target), field,
                    str(getattr(target, field) or ""), language)

    return read


async def translations_by_event(
    db: AsyncSession, event_ids: Iterable[int], language: str
) -> dict[int, dict[tuple[str, str, str], str]]:
    """Every translation into `language` of the given events, per event."""
    ids = sorted(set(event_ids))
    found: dict[int, dict[tuple[str, str, str], str]] = {event_id: {} for event_id in ids}
    if not ids:
        return found
    rows = await db.execute(
        select(ContentTranslation.event_id, ContentTranslation.target,
               ContentTranslation.language, ContentTranslation.field, ContentTranslation.text)
        .where(ContentTranslation.event_id.in_(ids), ContentTranslation.language == language))
    for event_id, target, code, field, text in rows:
        found[event_id][(target, code, field)] = text
    return found


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextChange:
    """One text to set ("" or None clears it) on one target, in one language."""

    target: Target
    language: str
    field: str
    text: str | None
    # Where the input named it, for the error: "translations.de.title".
    name: str


def clean_translation(field: str, text: str | None, limit: int) -> tuple[str | None, str | None]:
    """The cleaned text (None: clear) or why it is refused: a title is one line, a summary or
    description keeps its lines (Interest Groups' texts follow the same rules)."""
    text = (text or "").strip()
    if not text:
        return None, None
    multi = field in _MULTI_LINE_FIELDS
    if has_control(text, allowed="\n\t\r" if multi else ""):
        if multi:
            return None, _("Must not contain control characters.")
        return None, _("Must be a single line without control characters.")
    if len(text) > limit:
        return None, _("At most %(count)s characters.") % {"count": limit}
    if multi:
        return text.replace("\r\n", "\n").replace("\r", "\n"), None
    return " ".join(text.split()), None


def check_changes(event: Event, changes: Iterable[TextChange]) -> list[tuple[TextChange, str | None]]:
    """Every change cleaned, or every rule broken at once (InvalidInputError naming each)."""
    errors: list[FieldError] = []
    cleaned: list[tuple[TextChange, str | None]] = []
    for change in changes:
        if change.language not in LANGUAGES:
            errors.append(FieldError(change.name.rsplit(".", 1)[0], _(
                "Not a language of the service.")))
            continue
        if change.language == event.default_language:
            errors.append(FieldError(change.name.rsplit(".", 1)[0], _(
                "This is the event's default language: edit the event's own text instead.")))
            continue
        limits = fields_of(change.target)
        if change.field not in limits:
            errors.append(FieldError(change.name, _("This text cannot be translated.")))
            continue
        text, problem = clean_translation(change.field, change.text, limits[change.field])
        if problem is not None:
            errors.append(FieldError(change.name, problem))
            continue
        if (isinstance(change.target, FeedbackQuestion) and change.field == "choices"
                and text is not None
                and len(choice_list(text)) != len(choice_list(change.target.choices))):
            # Answers keep a choice's number: each line must be the same choice.
            errors.append(FieldError(change.name, _(
                "Give as many choices as the question has (%(count)s), one a line, in its "
                "order.") % {"count": len(choice_list(change.target.choices))}))
            continue
        cleaned.append((change, text))
    if errors:
        raise InvalidInputError.of(errors)
    return cleaned


def _owned(event: Event, target: Target) -> None:
    if isinstance(target, Session) and target.event_id != event.id:
        raise NotFoundError(_("No such session in this event."), "session_id")
    if isinstance(target, AgendaItem) and target.session_id not in {s.id for s in event.sessions}:
        raise NotFoundError(_("No such agenda item in this event."), "agenda_item_id")
    if (isinstance(target, SessionMaterial)
            and target.session_id not in {s.id for s in event.sessions}):
        raise NotFoundError(_("No such material in this event."), "material_id")
    if isinstance(target, ConsultationProfile) and target.event_id != event.id:
        raise NotFoundError(_("No market consultation in this event."), "event_id")
    if isinstance(target, ConsultationDocument) and target.event_id != event.id:
        raise NotFoundError(_("No such document in this event."), "document_id")
    if isinstance(target, ConsultationQuestion):
        if target.event_id != event.id:
            raise NotFoundError(_("No such question in this event."), "question_id")
        if target.answered_at is None:
            raise ConflictError(_("Only a published answer and its question are translated."),
                                "question_id")
    if isinstance(target, FeedbackQuestion) and target.event_id != event.id:
        raise NotFoundError(_("No such feedback question in this event."),
                            "feedback_question_id")


async def set_translations(db: AsyncSession, event_id: int, changes: Iterable[TextChange], *,
                           now: datetime) -> Event:
    """Set (or, with an empty text, clear) translations; all or nothing: every rule is
    checked before anything is written."""
    event = await get_event(db, event_id)
    changes = list(changes)
    for change in changes:
        _owned(event, change.target)
    cleaned = check_changes(event, changes)
    existing = {(row.target, row.language, row.field): row
                for row in await db.scalars(select(ContentTranslation)
                                            .where(ContentTranslation.event_id == event.id))}
    for change, text in cleaned:
        key = (target_key(change.target), change.language, change.field)
        row = existing.get(key)
        if text is None:
            if row is not None:
                await db.delete(row)
                del existing[key]
            continue
        if row is None:
            row = ContentTranslation(
                event_id=event.id, target=key[0], language=change.language,
                field=change.field, text=text, updated_at=now,
                # A session's and its materials' go with the session when it is deleted.
                session_id=change.target.id if isinstance(change.target, Session)
                else change.target.session_id if isinstance(change.target, SessionMaterial)
                else None,
                agenda_item_id=change.target.id if isinstance(change.target, AgendaItem)
                else None,
            )
            db.add(row)
            existing[key] = row
        elif row.text != text:
            row.text = text
            row.updated_at = now
    event.updated_at = now
    await db.flush()
    return await get_event(db, event.id)


async def clear_translations(db: AsyncSession, event_id: int, language: str | None = None, *,
                             now: datetime) -> Event:
    """Remove the event's translations (into one language, or all of them)."""
    event = await get_event(db, event_id)
    await _delete_rows(db, event.id, language)
    event.updated_at = now
    await db.flush()
    return await get_event(db, event.id)


async def _delete_rows(db: AsyncSession, event_id: int, language: str | None) -> None:
    """One by one through the ORM, so that the audit log records each removal."""
    query = select(ContentTranslation).where(ContentTranslation.event_id == event_id)
    if language is not None:
        query = query.where(ContentTranslation.language == language)
    for row in await db.scalars(query):
        await db.delete(row)


def check_language(language: str, field: str = "default_language") -> str:
    if language not in LANGUAGES:
        raise InvalidInputError(_("Not a language of the service."), field)
    return language


async def set_default_language(db: AsyncSession, event_id: int, language: str, *,
                               now: datetime) -> Event:
    """Say which language the event's own columns are written in. Translations into that
    language would never be shown any more, so they are removed."""
    check_language(language)
    event = await get_event(db, event_id)
    if event.default_language == language:
        return event
    event.default_language = language
    await _delete_rows(db, event.id, language)
    event.updated_at = now
    await db.flush()
    return await get_event(db, event.id)


def changes_from_mapping(target: Target, translations: Mapping[str, Mapping[str, str | None]],
                         prefix: str = "translations") -> list[TextChange]:
    """`{"de": {"title": "..."}}` as changes, each named `prefix.de.title` for errors."""
    return [TextChange(target, language, field, text, f"{prefix}.{language}.{field}")
            for language, texts in translations.items() for field, text in texts.items()]


async def apply_payload(db: AsyncSession, event_id: int, target: Target,
                        translations: Mapping[str, Mapping[str, str | None]] | None, *,
                        now: datetime, default_language: str | None = None) -> Event:
    """What an API payload says of languages: the event's default language (if given),
    then its `translations` for `target`, errors named `translations.<language>.<field>`."""
    event = await get_event(db, event_id)
    if default_language is not None:
        event = await set_default_language(db, event_id, default_language, now=now)
    if translations:
        event = await set_translations(db, event_id, changes_from_mapping(target, translations),
                                       now=now)
    return event


def payload_translations(event: Event, target: Target | None = None
                         ) -> dict[str, dict[str, str]]:
    """The translations of `target` (the event by default) as the API shows them."""
    key = target_key(event if target is None else target)
    found: dict[str, dict[str, str]] = {}
    for row in _loaded_rows(event):
        if row.target == key:
            found.setdefault(row.language, {})[row.field] = row.text
    return found
