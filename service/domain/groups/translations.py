"""An Interest Group's own texts (topic, summary, description) in several languages.

The group's columns are written in its `default_language`; the same texts in other languages
are kept in its `translations` ({"de": {"topic": ...}}). Reading asks for a text in a
language and falls back to the column where there is no translation, as for events. Writing
follows the events' rules (`clean_translation`): a topic is one line, at most as long as the
column allows. Domain only: takes `db` and `now`, flushes, never commits, knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import InterestGroup
from service.domain.errors import FieldError, InvalidInputError
from service.domain.groups.groups import get_group
from service.domain.programme.translations import Localised, clean_translation
from service.i18n import LANGUAGES
from service.i18n import gettext as _

# What may be translated, and at most how long (as the group's own columns allow).
GROUP_FIELDS: dict[str, int] = {"topic": 300, "summary": 2_000, "description": 20_000}


def group_text(group: InterestGroup, field: str, language: str) -> Localised:
    """The group's `field` in `language`, or in its default language when there is none."""
    default = str(getattr(group, field) or "")
    if language != group.default_language:
        found = (group.translations or {}).get(language, {}).get(field)
        if found:
            return Localised(found, language)
    return Localised(default, group.default_language)


def translation_languages(group: InterestGroup) -> list[str]:
    """The languages the group's texts may be translated into: all but its default."""
    return [code for code in LANGUAGES if code != group.default_language]


def translation_progress(group: InterestGroup) -> dict[str, tuple[int, int]]:
    """Per language: how many of the group's texts (those that have words) are translated,
    of how many."""
    wanted = [field for field in GROUP_FIELDS if str(getattr(group, field) or "").strip()]
    stored = group.translations or {}
    return {language: (sum(1 for field in wanted if stored.get(language, {}).get(field)),
                       len(wanted))
            for language in translation_languages(group)}


async def set_group_translations(db: AsyncSession, group_id: int, language: str,
                                 texts: Mapping[str, str | None], *,
                                 now: datetime) -> InterestGroup:
    """Set one language's texts (an empty text removes that translation); all or nothing,
    every problem named at once (`translations.de.topic`)."""
    group = await get_group(db, group_id)
    prefix = f"translations.{language}"
    if language not in LANGUAGES:
        raise InvalidInputError(_("Not a language of the service."), prefix)
    if language == group.default_language:
        raise InvalidInputError(_("This is the group's default language: edit the group's "
                                  "own text instead."), prefix)
    errors: list[FieldError] = []
    kept = dict((group.translations or {}).get(language, {}))
    for field, text in texts.items():
        if field not in GROUP_FIELDS:
            errors.append(FieldError(f"{prefix}.{field}", _("This text cannot be translated.")))
            continue
        cleaned, problem = clean_translation(field, text, GROUP_FIELDS[field])
        if problem is not None:
            errors.append(FieldError(f"{prefix}.{field}", problem))
        elif cleaned is None:
            kept.pop(field, None)
        else:
            kept[field] = cleaned
    if errors:
        raise InvalidInputError.of(errors)
    # A new mapping, so that the change is seen and written.
    translations = {code: dict(found) for code, found in (group.translations or {}).items()
                    if code != language}
    if kept:
        translations[language] = kept
    if translations != (group.translations or {}):
        group.translations = translations
        group.updated_at = now
        await db.flush()
    return group


async def set_group_default_language(db: AsyncSession, group_id: int, language: str, *,
                                     now: datetime) -> InterestGroup:
    """Say which language the group's own texts are written in. Translations into that
    language would never be shown any more, so they are removed."""
    if language not in LANGUAGES:
        raise InvalidInputError(_("Not a language of the service."), "default_language")
    group = await get_group(db, group_id)
    if group.default_language != language:
        group.default_language = language
        group.translations = {code: dict(found)
                              for code, found in (group.translations or {}).items()
                              if code != language}
        group.updated_at = now
        await db.flush()
    return group
