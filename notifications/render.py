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
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import escape

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
    """Render `<template>.txt|.html` in `language` (one the service speaks).

    The same email to many people (a burst of confirmations) differs only in its
    `PERSONAL_KEYS`: once an email's shape has been seen twice, it is rendered once with
    markers in their place and each later one is that render with its own values put in
    (`_Shape`), which gives the very text a render of its own would.
    """
    if not _TEMPLATE_NAME.fullmatch(template):
        raise EmailTemplateError(f"not an email template name: {template!r}")
    if not is_language(language):
        raise EmailTemplateError(f"not a language of the service: {language!r}")
    personal = _personal_values(context)
    key = _shape_key(template, language, directory, context, personal) if personal else None
    if key is None or personal is None:
        return _render(template, context, language, directory)
    with _SHAPES_LOCK:
        shape = _SHAPES.get(key)
        if shape is not None:
            _SHAPES.move_to_end(key)
        first_time = shape is None and key not in _SEEN
        if first_time:
            # Perhaps the only email of its kind: not worth a render with markers yet.
            _SEEN[key] = None
            while len(_SEEN) > _MAX_SHAPES:
                _SEEN.popitem(last=False)
    if shape:
        return shape.fill(personal)
    rendered = _render(template, context, language, directory)
    if shape is None and not first_time:
        learnt = _Shape.learn(template, context, language, directory, personal, rendered)
        with _SHAPES_LOCK:
            _SHAPES[key] = learnt
            while len(_SHAPES) > _MAX_SHAPES:
                _SHAPES.popitem(last=False)
    return rendered


def _render(template: str, context: Mapping[str, object], language: str, directory: Path
            ) -> RenderedEmail:
    subject, text, html = _render_raw(template, context, language, directory)
    return _finish(subject, text, html)


def _render_raw(template: str, context: Mapping[str, object], language: str, directory: Path
                ) -> tuple[str, str, str]:
    """The subject, text and HTML as the templates give them (not yet tidied)."""
    env = get_environment(directory)
    text_template = env.get_template(f"{template}.txt")
    html_template = env.get_template(f"{template}.html")

    values = dict(context)
    with use_language(language):
        subject = _render_subject(text_template, values)
        text = text_template.render(values, subject=subject)
        html = html_template.render(values, subject=subject)
    return subject, text, html


def _finish(subject: str, text: str, html: str) -> RenderedEmail:
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html.strip() + "\n")


# --- the same email to many people ----------------------------------------------------------

# What differs from one recipient of an email to the next while the rest stays the same.
# A template may only print these (as they are, or as an argument of `_()`/`{% trans %}`):
# `_Shape.learn` checks that it does, and renders every email whole where it does not.
PERSONAL_KEYS: tuple[str, ...] = ("recipient_name", "manage_url", "feed_url")
_MAX_SHAPES = 256
# Private-use characters around each marker: no template text or value holds them.
_OPEN, _CLOSE = "\ue000", "\ue001"
# Two sets of markers of different lengths, each with a character that HTML escaping
# changes: a template that filtered a value (`upper`, `length`, `safe`, ...) instead of
# printing it gives two renders that differ, or markers left over.
_MARKERS = (
    tuple(f"{_OPEN}{index}p&q{_CLOSE}" for index in range(len(PERSONAL_KEYS))),
    tuple(f"{_OPEN}{index}rr&sss{_CLOSE}" for index in range(len(PERSONAL_KEYS))),
)
_SCALARS = (str, int, float, bool, type(None))


def _personal_values(context: Mapping[str, object]) -> dict[int, str] | None:
    """The context's personal values by their index in `PERSONAL_KEYS`, or None where an
    email is better rendered whole (none of them, or one that is empty or holds a marker
    character)."""
    found: dict[int, str] = {}
    for index, name in enumerate(PERSONAL_KEYS):
        value = context.get(name)
        if value is None:
            continue
        if type(value) is not str or not value or _OPEN in value or _CLOSE in value:
            return None
        found[index] = value
    return found or None


def _frozen(value: object) -> Hashable:
    """`value` as a hashable key that tells apart whatever renders differently (a `Markup`
    from its `str`, `1` from `True`); raises TypeError for anything else."""
    if isinstance(value, _SCALARS):
        return (type(value), value)
    if isinstance(value, Mapping):
        return (dict, tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (list, tuple(_frozen(item) for item in value))
    raise TypeError(f"no key for {type(value).__name__}")


def _shape_key(template: str, language: str, directory: Path, context: Mapping[str, object],
               personal: Mapping[int, str]) -> Hashable | None:
    """Everything but the personal values, or None if the context holds other kinds of value."""
    try:
        rest = _frozen({name: value for name, value in context.items()
                        if name not in PERSONAL_KEYS})
    except TypeError:
        return None
    return (template, language, directory, tuple(sorted(personal)), rest)


class _Shape:
    """An email rendered with markers for its personal values, split where they go (or,
    falsy, a shape that must be rendered whole each time)."""

    def __init__(self, subject: str, text: _Pieces, html: _Pieces) -> None:
        self.subject, self.text, self.html = subject, text, html
        self.usable = True

    def __bool__(self) -> bool:
        return self.usable

    @classmethod
    def unusable(cls) -> _Shape:
        shape = cls("", ([], []), ([], []))
        shape.usable = False
        return shape

    @classmethod
    def learn(cls, template: str, context: Mapping[str, object], language: str,
              directory: Path, personal: dict[int, str], rendered: RenderedEmail) -> _Shape:
        """Render with each set of markers; usable only if both, filled with `personal`,
        give exactly `rendered` (this recipient's email rendered whole)."""
        shapes: list[_Shape] = []
        for markers in _MARKERS:
            values = {**context, **{PERSONAL_KEYS[i]: markers[i] for i in personal}}
            subject, text, html = _render_raw(template, values, language, directory)
            if _OPEN in subject or _CLOSE in subject:
                # The subject is tidied before the bodies print it: not a plain insertion.
                return cls.unusable()
            shape = cls(subject, _split(text, markers, escaped=False),
                        _split(html, markers, escaped=True))
            if shape.fill(personal) != rendered:
                return cls.unusable()
            shapes.append(shape)
        return shapes[0]

    def fill(self, personal: dict[int, str]) -> RenderedEmail:
        escaped = {index: str(escape(value)) for index, value in personal.items()}
        return _finish(self.subject, _join(self.text, personal), _join(self.html, escaped))


# A render cut at its markers: the literal texts (one more than the markers) and, between
# each two, the index in `PERSONAL_KEYS` of the value that goes there.
_Pieces = tuple[list[str], list[int]]


def _split(rendered: str, markers: tuple[str, ...], *, escaped: bool) -> _Pieces:
    """`rendered` cut at each marker as HTML prints it (escaped) or as text does. A marker
    in any other form stays in a literal, which then fails the check in `_Shape.learn`."""
    forms = {str(escape(marker)) if escaped else marker: index
             for index, marker in enumerate(markers)}
    pattern = re.compile("|".join(re.escape(form) for form in forms))
    literals: list[str] = []
    slots: list[int] = []
    position = 0
    for match in pattern.finditer(rendered):
        literals.append(rendered[position:match.start()])
        slots.append(forms[match.group(0)])
        position = match.end()
    literals.append(rendered[position:])
    return literals, slots


def _join(pieces: _Pieces, values: dict[int, str]) -> str:
    literals, slots = pieces
    out = [literals[0]]
    for slot, literal in zip(slots, literals[1:], strict=True):
        # A marker whose value this email lacks stays a marker (learn rejects that shape).
        out += [values.get(slot, _OPEN), literal]
    return "".join(out)


def clear_shapes() -> None:
    """Forget every learnt shape (templates or catalogues changed; tests)."""
    with _SHAPES_LOCK:
        _SHAPES.clear()
        _SEEN.clear()


_SHAPES: OrderedDict[Hashable, _Shape] = OrderedDict()
_SHAPES_LOCK = threading.Lock()
_SEEN: OrderedDict[Hashable, None] = OrderedDict()


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
