"""The operator's privacy notice, kept as versions: an edit adds one, never rewrites one.

The current notice is the newest version. The installation's first version is written the
first time a notice is needed: the text of PROCURA_PRIVACY_NOTICE_FILE when set, else the
default text in templates/pages/privacy_notice_default.txt. Registrations point at the
version they consented to, so changing the text never changes what an earlier registrant
agreed to. While that default text is the current version, and is still the text the
default file gives, a reader of another language is given its translation
(privacy_notice_default.<language>.txt); an earlier default text is given as written. A
version the operator publishes says the language of its text and may carry the same notice
in other languages: a reader is given theirs where there is one, else the text as written.
Plain functions over a database session: flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import PrivacyNotice, Registration
from service.domain.errors import FieldError, InvalidInputError, NotFoundError
from service.domain.text import clean_text
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from service.i18n import gettext as _
from service.settings import TEMPLATES_DIR, Settings

DEFAULT_NOTICE = TEMPLATES_DIR / "pages" / "privacy_notice_default.txt"
DEFAULT_SOURCE = "installation (default text)"
MAX_NOTICE = 50_000
# The advisory lock under which the first version is written (any fixed number of ours).
FIRST_NOTICE_LOCK = 0x50726976  # "Priv"
UNCHANGED = N_("The text is the same as the current notice: nothing to publish.")


def initial_notice_text(settings: Settings) -> tuple[str, str]:
    """The first version's text, and where it came from (its `created_by`)."""
    if settings.privacy_notice_file is not None:
        text = settings.privacy_notice_file.read_text(encoding="utf-8")
        source = f"installation (PROCURA_PRIVACY_NOTICE_FILE {settings.privacy_notice_file.name})"
    else:
        text = DEFAULT_NOTICE.read_text(encoding="utf-8")
        source = DEFAULT_SOURCE
    return _filled(text, settings), source[:300]


def _filled(text: str, settings: Settings) -> str:
    text = (text.replace("{organiser_name}", settings.organiser_name)
            .replace("{organiser_email}", settings.organiser_email))
    return clean_text(text, "text", required=True, max_length=MAX_NOTICE)


def notice_text_for(notice: PrivacyNotice, language: str, settings: Settings
                    ) -> tuple[str, str | None]:
    """The notice's text for a reader of `language`, and the language it is in (None: as the
    operator wrote it, in a language the service does not know)."""
    if notice.created_by != DEFAULT_SOURCE:
        if language == notice.language:
            return notice.text, language
        found = (notice.translations or {}).get(language)
        return (found, language) if found else (notice.text, notice.language)
    translated = DEFAULT_NOTICE.with_name(f"privacy_notice_default.{language}.txt")
    if language == DEFAULT_LANGUAGE or not translated.is_file():
        return notice.text, DEFAULT_LANGUAGE
    if notice.text != _filled(DEFAULT_NOTICE.read_text(encoding="utf-8"), settings):
        # An earlier default text (or one filled with an earlier organiser's name): the
        # translations are of today's, so everyone is shown what was agreed to, as stored.
        return notice.text, DEFAULT_LANGUAGE
    return _filled(translated.read_text(encoding="utf-8"), settings), language


async def find_current_notice(db: AsyncSession) -> PrivacyNotice | None:
    """The newest version, if any was written yet."""
    notice: PrivacyNotice | None = await db.scalar(
        select(PrivacyNotice).order_by(PrivacyNotice.id.desc()).limit(1))
    return notice


async def current_notice(db: AsyncSession, *, now: datetime, settings: Settings
                         ) -> PrivacyNotice:
    """The notice people are shown now; the installation's first version is written when
    there is none yet."""
    notice = await find_current_notice(db)
    if notice is not None:
        return notice
    if db.get_bind().dialect.name == "postgresql":
        # Processes starting at once would each write a first version: one at a time, the
        # second finds the first's (the lock lasts until this transaction ends).
        await db.execute(select(func.pg_advisory_xact_lock(FIRST_NOTICE_LOCK)))
        notice = await find_current_notice(db)
        if notice is not None:
            return notice
    text, source = initial_notice_text(settings)
    notice = PrivacyNotice(text=text, created_at=now, created_by=source,
                           language=DEFAULT_LANGUAGE if source == DEFAULT_SOURCE else None,
                           translations={})
    db.add(notice)
    await db.flush()
    return notice


async def get_notice_version(db: AsyncSession, version_id: int) -> PrivacyNotice:
    notice = await db.get(PrivacyNotice, version_id)
    if notice is None:
        raise NotFoundError(_("No privacy notice version %(version_id)s.") % {"version_id": version_id},
                            "privacy_notice_version_id")
    return notice


async def list_notice_versions(db: AsyncSession) -> list[PrivacyNotice]:
    """Every version, newest first."""
    return list(await db.scalars(select(PrivacyNotice).order_by(PrivacyNotice.id.desc())))


def _checked(text: str, language: str | None, translations: Mapping[str, str | None]
             ) -> tuple[str, dict[str, str]]:
    """The cleaned text and translations (empty ones left out), or every problem at once
    (`text`, `language`, `translations.de`)."""
    problems: list[FieldError] = []
    cleaned = ""
    try:
        cleaned = clean_text(text, "text", required=True, max_length=MAX_NOTICE) or ""
    except InvalidInputError as error:
        problems.extend(error.errors)
    if language is not None and language not in LANGUAGES:
        problems.append(FieldError("language", _("Not a language of the service.")))
    kept: dict[str, str] = {}
    for code, translated in translations.items():
        name = f"translations.{code}"
        if code not in LANGUAGES:
            problems.append(FieldError(name, _("Not a language of the service.")))
            continue
        try:
            found = clean_text(translated, name, max_length=MAX_NOTICE)
        except InvalidInputError as error:
            problems.extend(error.errors)
            continue
        if found and code == language:
            problems.append(FieldError(name, _(
                "This is the language of the notice's text: leave this empty.")))
        elif found:
            kept[code] = found
    if problems:
        raise InvalidInputError.of(problems)
    return cleaned, kept


async def publish_notice(db: AsyncSession, text: str, *, author: str, now: datetime,
                         settings: Settings, language: str | None = None,
                         translations: Mapping[str, str | None] | None = None
                         ) -> PrivacyNotice:
    """A new current version with `text` (written in `language`, None: not said) and the
    same notice in other languages; earlier versions, and who consented to them, stay."""
    cleaned, kept = _checked(text, language, translations or {})
    current = await current_notice(db, now=now, settings=settings)
    if (cleaned, language, kept) == (current.text, current.language, current.translations or {}):
        raise InvalidInputError(_(UNCHANGED), "text")
    notice = PrivacyNotice(text=cleaned, language=language, translations=kept, created_at=now,
                           created_by=author[:300])
    db.add(notice)
    await db.flush()
    return notice


def notice_paragraphs(text: str) -> list[tuple[str, list[str]]]:
    """The notice as (heading, paragraphs) sections: a one-line block followed by text is a
    heading. Plain text in, plain text out: templates escape it."""
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    sections: list[tuple[str, list[str]]] = []
    for block in blocks:
        lines = block.split("\n")
        if len(lines) > 1 and len(lines[0]) <= 80:
            sections.append((lines[0].strip(), [" ".join(lines[1:]).strip()]))
        elif sections:
            sections[-1][1].append(block)
        else:
            sections.append(("", [block]))
    return sections


async def withdraw_keep_informed(db: AsyncSession, registration: Registration, *,
                                 now: datetime) -> bool:
    """The registrant no longer wants to hear of future events; whether it was given."""
    if registration.keep_informed_at is None:
        return False
    registration.keep_informed_at = None
    registration.updated_at = now
    await db.flush()
    return True
