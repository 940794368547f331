"""Email templates rendered into a subject, a plain-text body and an HTML body.

Templates live in `templates/emails/<what>_to_<audience>.txt|.html`; both files extend
`base.txt` / `base.html`, and the subject is the `subject` block of the `.txt` file. Their
English text is marked for translation and rendered in the recipient's language
(service/i18n.py). One Jinja2 environment is built per template directory and kept, because
compiling costs far more than rendering. This module only turns data into text: it knows
nothing of the database, of MIME or of SMTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from service.i18n import DEFAULT_LANGUAGE, install_translations, is_language, use_language
from service.settings import TEMPLATES_DIR

EMAIL_TEMPLATES_DIR = TEMPLATES_DIR / "emails"

# Names are used to build file paths: keep them to a safe alphabet.
_TEMPLATE_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*_to_[a-z0-9]+(?:_[a-z0-9]+)*$")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\v\f]+")


class EmailTemplateError(ValueError):
    """A template name, language or template file that cannot make an email."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def get_environment(directory: Path = EMAIL_TEMPLATES_DIR) -> Environment:
    """The one Jinja2 environment for email templates in `directory` (cached)."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    install_translations(env)
    return env


def render_email(
    template: str,
    context: Mapping[str, object],
    language: str = DEFAULT_LANGUAGE,
    *,
    directory: Path = EMAIL_TEMPLATES_DIR,
) -> RenderedEmail:
    """Render `<template>.txt|.html` in `language` (one the service speaks)."""
    if not _TEMPLATE_NAME.fullmatch(template):
        raise EmailTemplateError(f"not an email template name: {template!r}")
    if not is_language(language):
        raise EmailTemplateError(f"not a language of the service: {language!r}")
    env = get_environment(directory)
    text_template = env.get_template(f"{template}.txt")
    html_template = env.get_template(f"{template}.html")

    values = dict(context)
    with use_language(language):
        subject = _render_subject(text_template, values)
        text = text_template.render(values, subject=subject)
        html = html_template.render(values, subject=subject)
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html.strip() + "\n")


def _render_subject(template: Template, values: dict[str, object]) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise EmailTemplateError(f"{template.name} has no {{% block subject %}}")
    raw = "".join(block(template.new_context(values)))
    subject = " ".join(_LINE_BREAKS.sub(" ", raw).split())
    if not subject:
        raise EmailTemplateError(f"{template.name} renders an empty subject")
    return subject


def _tidy_text(text: str) -> str:
    """Trailing spaces off every line, at most one blank line in a row, one final newline."""
    # "-- " (with its space) is the signature separator mail clients recognise.
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"
