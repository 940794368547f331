"""Documents of a consultation: links, or files kept under the var folder, each shared with
every registered supplier by email when added (`sharing`).

A file is accepted by its extension (PDF, ODT, DOCX, XLSX, ODS, CSV, TXT) and a look at its
first bytes (a PDF starts "%PDF-", the office formats are zip packages, CSV and TXT are UTF-8
text without NUL), up to `MAX_DOCUMENT_BYTES`. The stored file has a random name; the type
it is served with comes from this allow-list, never from what the browser said. Anything
refused is a 4xx naming the field, and nothing is stored. Flushes, never commits.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ConsultationDocument
from service.domain.errors import FieldError, InvalidInputError, NotFoundError
from service.domain.text import clean_line
from service.i18n import gettext as _
from service.settings import Settings

from .profile import load_consultation_event
from .sharing import DOCUMENT_TEMPLATE, tell_every_supplier

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # Litestar adds the charset
    "txt": "text/plain",
}
_ZIP_KINDS = frozenset({"odt", "ods", "docx", "xlsx"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class UploadedFile:
    """A file as the form sent it."""

    file_name: str
    content: bytes


def documents_dir(settings: Settings) -> Path:
    return settings.var_dir / "consultation"


def safe_file_name(name: str) -> str:
    """The name without folders or characters a header or a file system could misread."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")
    return cleaned[-120:] or "document"


def _file_problem(upload: UploadedFile) -> tuple[str | None, str | None]:
    """(the extension, None) for an acceptable file, or (None, the problem)."""
    extension = upload.file_name.rsplit(".", 1)[-1].lower() if "." in upload.file_name else ""
    if extension not in MEDIA_TYPES:
        return None, (_("Only PDF, ODT, DOCX, XLSX, ODS, CSV or TXT files can be shared: "
                        "%(file_name)r is not one.")
                      % {"file_name": safe_file_name(upload.file_name)})
    if not upload.content:
        return None, _("The file is empty.")
    if len(upload.content) > MAX_DOCUMENT_BYTES:
        return None, (_("The file is larger than %(megabytes)s MB: share a link to it instead.")
                      % {"megabytes": MAX_DOCUMENT_BYTES // (1024 * 1024)})
    head = upload.content[:8]
    if extension == "pdf" and not head.startswith(b"%PDF-"):
        return None, _("The file is not a PDF document, whatever its name says.")
    if extension in _ZIP_KINDS and not head.startswith(b"PK\x03\x04"):
        return None, (_("The file is not a %(kind)s document, whatever its name says.")
                          % {"kind": extension.upper()})
    if extension in ("csv", "txt"):
        try:
            text = upload.content.decode("utf-8")
        except UnicodeDecodeError:
            return None, _("A CSV or TXT file must be UTF-8 text.")
        if "\x00" in text:
            return None, _("A CSV or TXT file must be text, without NUL characters.")
    return extension, None


async def share_document(
    db: AsyncSession, event_id: int, *, title: str, url: str = "",
    upload: UploadedFile | None = None, now: datetime, settings: Settings,
) -> ConsultationDocument:
    """Add a link or a file, and email every registered supplier about it."""
    event = await load_consultation_event(db, event_id)
    problems: list[FieldError] = []
    clean_title: str | None = None
    try:
        clean_title = clean_line(title, "title", required=True, max_length=300)
    except InvalidInputError as error:
        problems.extend(error.errors)
    link = url.strip()
    extension: str | None = None
    if upload is not None and link:
        problems.append(FieldError("file", _("Give a link or a file, not both.")))
    elif upload is not None:
        extension, problem = _file_problem(upload)
        if problem:
            problems.append(FieldError("file", problem))
    elif not link:
        problems.append(FieldError("url", _("Give a link (https://...) or choose a file.")))
    elif len(link) > 1000 or not _URL.match(link):
        problems.append(FieldError("url", _("Give the link as a web address: https://...")))
    if problems:
        raise InvalidInputError.of(problems)
    document = ConsultationDocument(event_id=event.id, title=clean_title or "", shared_at=now)
    if upload is not None and extension is not None:
        stored = f"{secrets.token_hex(16)}.{extension}"
        folder = documents_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stored).write_bytes(upload.content)
        document.stored_name = stored
        document.file_name = safe_file_name(upload.file_name)
        document.media_type = MEDIA_TYPES[extension]
        document.size_bytes = len(upload.content)
    else:
        document.url = link
    db.add(document)
    await db.flush()
    await tell_every_supplier(db, event, DOCUMENT_TEMPLATE, {
        "document_title": document.title,
        "document_url": document_url(settings, event.slug, document),
        "document_file_name": document.file_name or "",
    }, now=now, settings=settings)
    return document


def document_url(settings: Settings, slug: str, document: ConsultationDocument) -> str:
    """Where a supplier opens it: the link itself, or the download through the service."""
    if document.url:
        return document.url
    return f"{settings.public_base_url}/events/{slug}/consultation/documents/{document.id}"


async def list_documents(db: AsyncSession, event_id: int, *, include_withdrawn: bool = False
                         ) -> list[ConsultationDocument]:
    """The documents offered to suppliers (with `include_withdrawn`: every one ever shared,
    as the report lists them)."""
    query = (select(ConsultationDocument).where(ConsultationDocument.event_id == event_id)
             .order_by(ConsultationDocument.id))
    if not include_withdrawn:
        query = query.where(ConsultationDocument.withdrawn_at.is_(None))
    return list(await db.scalars(query))


async def withdraw_document(db: AsyncSession, event_id: int, document_id: int, *,
                            now: datetime) -> ConsultationDocument:
    """No longer offered (page, download, API); kept for the procurement file, which says
    when it was shared and when withdrawn. Withdrawing again changes nothing."""
    document = await db.get(ConsultationDocument, document_id)
    if document is None or document.event_id != event_id:
        raise NotFoundError("No such document.", "document_id")
    if document.withdrawn_at is None:
        document.withdrawn_at = now
        await db.flush()
    return document


@dataclass(frozen=True)
class DocumentFile:
    file_name: str
    media_type: str
    content: bytes


async def read_document_file(db: AsyncSession, event_id: int, document_id: int, *,
                             settings: Settings) -> DocumentFile:
    """A shared file's bytes (404 for a link, another event's document or a missing file)."""
    document = await db.get(ConsultationDocument, document_id)
    if (document is None or document.event_id != event_id or document.stored_name is None
            or document.withdrawn_at is not None):
        raise NotFoundError(_("No such document."), "document_id")
    path = documents_dir(settings) / document.stored_name
    if not path.is_file():
        raise NotFoundError(_("No such document."), "document_id")
    return DocumentFile(file_name=document.file_name or "document",
                        media_type=document.media_type or "application/octet-stream",
                        content=path.read_bytes())
