"""An Interest Group's own texts (topic, summary, description, its meeting series' titles
and agendas, and one meeting's own agenda and minutes) in several languages.

The group's columns and its series' and meetings' texts are written in the group's
`default_language`; the same texts in other languages are kept beside them
(`translations`, {"de": {"topic": ...}} on the group, {"de": {"title": ..., "agenda": ...}}
on each series, {"de": {"agenda": ..., "minutes": ...}} on a meeting's row). Reading asks for a text in a
language and falls back to the column where there is no translation, as for events. Writing
follows the events' rules (`clean_translation`): a topic or title is one line, at most as
long as the column allows. Domain only: takes `db` and `now`, flushes, never commits, knows
no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import InterestGroup, MeetingOccurrence, MeetingSeries, MeetingStatus
from service.domain.errors import FieldError, InvalidInputError
from service.domain.groups.groups import get_group
from service.domain.groups.schedule import Occurrence
from service.domain.programme.translations import Localised, clean_translation
from service.i18n import LANGUAGES
from service.i18n import gettext as _

# What may be translated, and at most how long (as the columns allow).
GROUP_FIELDS: dict[str, int] = {"topic": 300, "summary": 2_000, "description": 20_000}
SERIES_FIELDS: dict[str, int] = {"title": 300, "agenda": 20_000}
# A meeting's own texts: its agenda (as long as a series' may be) and its minutes.
MEETING_FIELDS: dict[str, int] = {"agenda": SERIES_FIELDS["agenda"], "minutes": 50_000}


def group_text(group: InterestGroup, field: str, language: str) -> Localised:
    """The group's `field` in `language`, or in its default language when there is none."""
    return _pick(group.translations, language, field, str(getattr(group, field) or ""),
                 group.default_language)


def series_title(series: MeetingSeries, default_language: str, language: str) -> Localised:
    """A series' title in `language`, or in its group's default language."""
    return _pick(series.translations, language, "title", series.title, default_language)


def series_agenda(series: MeetingSeries, default_language: str, language: str) -> Localised:
    """A series' agenda in `language`, or in its group's default language."""
    return _pick(series.translations, language, "agenda", series.agenda or "",
                 default_language)


def occurrence_agenda(series: MeetingSeries, occurrence: Occurrence, default_language: str,
                      language: str) -> Localised:
    """An occurrence's agenda in `language`: its own where it has one, else the series',
    each translated where it can be."""
    if occurrence.has_own_agenda:
        return _pick(occurrence.translations, language, "agenda", occurrence.agenda,
                     default_language)
    return series_agenda(series, default_language, language)


def meeting_minutes(meeting: MeetingOccurrence, default_language: str,
                    language: str) -> Localised:
    """A meeting's minutes in `language`, or in its group's default language."""
    return _pick(meeting.translations, language, "minutes", meeting.minutes or "",
                 default_language)


def _pick(translations: Mapping[str, Any] | None, language: str, field: str, default: str,
          default_language: str) -> Localised:
    if language != default_language:
        found = (translations or {}).get(language, {}).get(field)
        if found:
            return Localised(found, language)
    return Localised(default, default_language)


def series_field(series: MeetingSeries, field: str = "title") -> str:
    """The name of a series' text among the group's texts: "series-12-title"."""
    return f"series-{series.id}-{field}"


def kept_series_translations(series: MeetingSeries, *, title: str, agenda: str
                             ) -> dict[str, Any]:
    """The series' translations that still hold once its title and agenda are these: a
    text that changed has none yet."""
    changed = {field for field, now in (("title", title), ("agenda", agenda))
               if now != (getattr(series, field) or "")}
    kept = {code: {field: text for field, text in texts.items() if field not in changed}
            for code, texts in (series.translations or {}).items()}
    return {code: texts for code, texts in kept.items() if texts}


def meeting_field(meeting: MeetingOccurrence, field: str = "agenda") -> str:
    """The name of a meeting's own text among the group's texts: "meeting-31-agenda",
    "meeting-31-minutes"."""
    return f"meeting-{meeting.id}-{field}"


def meeting_fields(meeting: MeetingOccurrence) -> list[str]:
    """The texts of its own a meeting has to translate: an agenda while it takes place, its
    minutes once published."""
    fields = []
    if meeting.agenda is not None and meeting.status != MeetingStatus.CANCELLED:
        fields.append("agenda")
    if meeting.minutes_published_at is not None:
        fields.append("minutes")
    return fields


def without_translations_of(translations: Mapping[str, Any] | None, field: str
                            ) -> dict[str, Any]:
    """`translations` without any language's `field` (its text changed: none translate it
    yet); the other texts' stay."""
    kept = {code: {name: text for name, text in texts.items() if name != field}
            for code, texts in (translations or {}).items()}
    return {code: texts for code, texts in kept.items() if texts}


async def group_series(db: AsyncSession, group_id: int) -> list[MeetingSeries]:
    """The group's series, first meeting first (as the translations page lists them)."""
    return list(await db.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group_id)
                                 .order_by(MeetingSeries.starts_at, MeetingSeries.id)))


async def meetings_with_own_texts(db: AsyncSession, series: Sequence[MeetingSeries]
                                  ) -> list[MeetingOccurrence]:
    """The meetings of these series that have texts of their own to translate
    (`meeting_fields`), earliest first."""
    if not series:
        return []
    return list(await db.scalars(select(MeetingOccurrence).where(
        MeetingOccurrence.series_id.in_([one.id for one in series]),
        or_(and_(MeetingOccurrence.agenda.is_not(None),
                 MeetingOccurrence.status != MeetingStatus.CANCELLED),
            MeetingOccurrence.minutes_published_at.is_not(None)),
    ).order_by(MeetingOccurrence.starts_at, MeetingOccurrence.id)))


def translation_languages(group: InterestGroup) -> list[str]:
    """The languages the group's texts may be translated into: all but its default."""
    return [code for code in LANGUAGES if code != group.default_language]


def translation_progress(group: InterestGroup, series: Sequence[MeetingSeries],
                         meetings: Sequence[MeetingOccurrence]
                         ) -> dict[str, tuple[int, int]]:
    """Per language: how many of the group's texts that have words (its own, its series'
    and its meetings' own agendas and minutes) are translated, of how many."""
    wanted = [(group.translations, field) for field in GROUP_FIELDS
              if str(getattr(group, field) or "").strip()]
    wanted += [(s.translations, field) for s in series for field in SERIES_FIELDS
               if str(getattr(s, field) or "").strip()]
    wanted += [(m.translations, field) for m in meetings for field in meeting_fields(m)
               if str(getattr(m, field) or "").strip()]
    return {language: (sum(1 for stored, field in wanted
                           if (stored or {}).get(language, {}).get(field)), len(wanted))
            for language in translation_languages(group)}


def _with_language(translations: Mapping[str, Any] | None, language: str,
                   texts: Mapping[str, str]) -> dict[str, Any]:
    """A new mapping (so that the change is seen and written) with `language`'s texts."""
    changed = {code: dict(found) for code, found in (translations or {}).items()
               if code != language}
    if texts:
        changed[language] = dict(texts)
    return changed


async def set_group_translations(db: AsyncSession, group_id: int, language: str,
                                 texts: Mapping[str, str | None], *,
                                 now: datetime) -> InterestGroup:
    """Set one language's texts, by name ("topic", "summary", "description", a series'
    "series-12-title", "series-12-agenda", or a meeting's own "meeting-31-agenda",
    "meeting-31-minutes"); an empty
    text removes that translation. All or nothing, every problem named at once
    (`translations.de.topic`)."""
    group = await get_group(db, group_id)
    prefix = f"translations.{language}"
    if language not in LANGUAGES:
        raise InvalidInputError(_("Not a language of the service."), prefix)
    if language == group.default_language:
        raise InvalidInputError(_("This is the group's default language: edit the group's "
                                  "own text instead."), prefix)
    series = {s.id: s for s in await group_series(db, group.id)}
    own = dict((group.translations or {}).get(language, {}))
    series_texts = {key: dict((s.translations or {}).get(language, {}))
                    for key, s in series.items()}
    # A series' text by its name: "series-12-agenda" -> (12, "agenda").
    series_names = {series_field(s, field): (key, field)
                    for key, s in series.items() for field in SERIES_FIELDS}
    meetings = {m.id: m for m in await meetings_with_own_texts(db, list(series.values()))}
    meeting_texts = {key: dict((m.translations or {}).get(language, {}))
                     for key, m in meetings.items()}
    # A meeting's text by its name: "meeting-31-minutes" -> (31, "minutes").
    meeting_names = {meeting_field(m, field): (key, field)
                     for key, m in meetings.items() for field in meeting_fields(m)}
    errors: list[FieldError] = []
    for name, text in texts.items():
        if name in GROUP_FIELDS:
            kept, field, limit = own, name, GROUP_FIELDS[name]
        elif name in series_names:
            key, field = series_names[name]
            kept, limit = series_texts[key], SERIES_FIELDS[field]
        elif name in meeting_names:
            key, field = meeting_names[name]
            kept, limit = meeting_texts[key], MEETING_FIELDS[field]
        else:
            errors.append(FieldError(f"{prefix}.{name}", _("This text cannot be translated.")))
            continue
        cleaned, problem = clean_translation(field, text, limit)
        if problem is not None:
            errors.append(FieldError(f"{prefix}.{name}", problem))
        elif cleaned is None:
            kept.pop(field, None)
        else:
            kept[field] = cleaned
    if errors:
        raise InvalidInputError.of(errors)
    changed = _with_language(group.translations, language, own)
    if changed != (group.translations or {}):
        group.translations = changed
        group.updated_at = now
    for key, one in series.items():
        changed = _with_language(one.translations, language, series_texts[key])
        if changed != (one.translations or {}):
            one.translations = changed
            one.updated_at = group.updated_at = now
    for key, meeting in meetings.items():
        changed = _with_language(meeting.translations, language, meeting_texts[key])
        if changed != (meeting.translations or {}):
            meeting.translations = changed
            # Its series' feeds and pages read it: their change markers move too.
            meeting.updated_at = series[meeting.series_id].updated_at = group.updated_at = now
    await db.flush()
    return group


async def set_group_default_language(db: AsyncSession, group_id: int, language: str, *,
                                     now: datetime) -> InterestGroup:
    """Say which language the group's own texts (and its series' and meetings') are written
    in. Translations into that language would never be shown any more, so they are removed."""
    if language not in LANGUAGES:
        raise InvalidInputError(_("Not a language of the service."), "default_language")
    group = await get_group(db, group_id)
    if group.default_language != language:
        group.default_language = language
        group.translations = _with_language(group.translations, language, {})
        group.updated_at = now
        series = await group_series(db, group.id)
        rows: list[MeetingSeries | MeetingOccurrence] = [
            *series, *await meetings_with_own_texts(db, series)]
        for one in rows:
            if language in (one.translations or {}):
                one.translations = _with_language(one.translations, language, {})
                one.updated_at = now
        await db.flush()
    return group
