"""Every message the code and templates mark is translated, in every language, for real.

The messages are extracted here exactly as `python3 tasks.py messages` extracts them
(service/locale/babel.cfg), so a message added to a template without running that command,
or left untranslated or fuzzy in a catalogue, fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from service.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


@cache
def extracted() -> dict[tuple[str, str | None], str]:
    """Each marked message (and its context), with one place it comes from."""
    with (LOCALE_DIR / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def catalogue(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=language)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def test_the_code_and_templates_mark_messages() -> None:
    assert len(extracted()) > 100  # the check below cannot pass on an empty extraction


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_message_is_in_the_catalogue(language: str) -> None:
    known = {_key(message) for message in _messages(catalogue(language))}
    missing = sorted(f"{where}: {msgid!r}" for (msgid, context), where in extracted().items()
                     if (msgid, context) not in known)
    assert not missing, (f"{len(missing)} messages missing from the {language} catalogue "
                         "(run `python3 tasks.py messages`, then translate):\n"
                         + "\n".join(missing[:40]))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    wanted = set(extracted())
    untranslated, fuzzy = [], []
    for message in _messages(catalogue(language)):
        if _key(message) not in wanted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(_key(message)[0])
        elif message.fuzzy:
            fuzzy.append(_key(message)[0])
    assert not untranslated, f"untranslated in {language}: {untranslated[:40]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:40]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    """`%(name)s` in the English must be in the translation (else rendering fails or drops it)."""
    problems = [f"{message.id!r}: {'; '.join(str(error) for error in errors)}"
                for message, errors in catalogue(language).check()]
    assert not problems, "\n".join(problems[:40])
