"""Reading an agenda pasted as programmes write it: "10:10 Title: subtitle, Name, Organisation".

Turns the text into typed items (wall-clock times, title, a guessed kind, speakers with their
organisations) and says, line by line, what it could not read. Pure text work: it knows no
database and no zone; matching to existing people (`agenda_paste`) and creating the items
(through the programme's own commands) come after, once an organiser has checked the result.

What it reads:
- a time at the start of a line opens an item: "10:10", "10.10", "10h10", "10:10-10:25",
  "10:10 to 10:25" (with any dash, spaced or not), optionally "am"/"pm";
- the rest is "title[, Name, Organisation[; Name, Organisation | and Name, Organisation]]",
  or "Name (Organisation)"; the title keeps its ": subtitle" and any commas of its own;
- the lines below an item add to it: "Moderator: Name, Organisation" (also "Moderated by",
  "Chair", "Facilitator"), "Speakers: ...", a bare "Name, Organisation" line, or text that
  continues the line above (a title wrapped by a PDF);
- "11:45 End" closes the agenda: the last item ends then;
- an item without an end written ends when the next one starts.
Lines before the first time (a heading, the date) are left out and listed as such.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import time

from service.db.models import AgendaItemKind
from service.i18n import gettext as _


@dataclass(frozen=True)
class ParsedSpeaker:
    name: str
    organisation: str | None = None
    is_moderator: bool = False


@dataclass(frozen=True)
class ParsedItem:
    """One agenda item as read; `ends_at` is None only for a last item with no end given
    (it then ends with its session)."""

    line: int  # where the item starts (1-based)
    starts_at: time
    ends_at: time | None
    title: str
    kind: AgendaItemKind
    speakers: tuple[ParsedSpeaker, ...] = ()
    is_end_written: bool = False  # False: the end is the next item's start or the End line


@dataclass(frozen=True)
class LineNote:
    """A line the reader could not use (`is_problem`) or chose to leave out (a heading)."""

    line: int
    text: str
    message: str
    is_problem: bool = True


@dataclass(frozen=True)
class ParsedAgenda:
    items: tuple[ParsedItem, ...]
    problems: tuple[LineNote, ...] = ()
    left_out: tuple[LineNote, ...] = ()
    closes_at: time | None = None  # the "End" line's time, when there is one


# --- times ---------------------------------------------------------------------------------

_CLOCK = r"(\d{1,2})\s*[:.h]\s*(\d{2})(?:\s*([ap])\.?\s*m\.?(?![a-z]))?"
_RANGE_JOIN = r"\s*(?:-|–|—|to|until|till)\s*"
_BULLET = r"^\s*(?:[-•*·▪]\s+)?"
_TIMED_LINE = re.compile(
    _BULLET + _CLOCK + rf"(?:{_RANGE_JOIN}{_CLOCK})?" + r"(?!\d|[.:/]\d)\s*(?:[|:–—-]\s*)?(.*)$",
    re.IGNORECASE,
)
_END_WORDS = re.compile(
    r"^(?:the\s+)?(?:end|ends|finish|close of (?:the )?(?:webinar|session|meeting|day))"
    r"(?:\s+of\s+(?:the\s+)?(?:webinar|session|meeting|day|event))?\.?$",
    re.IGNORECASE,
)


class _BadTime(ValueError):
    pass


def _clock(hours: str, minutes: str, meridiem: str | None) -> time:
    hour, minute = int(hours), int(minutes)
    if meridiem:
        if not 1 <= hour <= 12:
            raise _BadTime(f"{hours}:{minutes} {meridiem}m")
        hour = hour % 12 + (12 if meridiem.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise _BadTime(f"{hours}:{minutes}")
    return time(hour, minute)


# --- names ---------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Lower-case words that belong inside people's names ("Rudie de Vries").
_PARTICLES = _words(
    "de da di do du des del della der den van von ten ter te la le y af al bin zu dos das e"
)
# Words that are never a name, so "Opening Remarks" or "Coffee Break" stay titles.
_NOT_NAMES = _words(
    """welcome introduction opening closing remarks break coffee lunch dinner panel session
    discussion q&a questions answers networking keynote conclusions wrap up end agenda
    workshop presentation round table visit tour exchange moderator chair speakers speaker
    the and of for on in at to with by"""
)
_HONORIFICS = _words("dr dr. prof prof. mr mr. mrs mrs. ms ms. mx")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*\.?$")


def _is_person_name(text: str) -> bool:
    """Whether `text` reads as a person's name: two to five words, capitalised except for
    particles, no digits, none of the words agendas use for their items."""
    words = text.split()
    while words and words[0].lower() in _HONORIFICS:
        words = words[1:]
    if not 2 <= len(words) <= 5:
        return False
    for index, word in enumerate(words):
        if not _NAME_WORD.match(word) or word.lower() in _NOT_NAMES:
            return False
        if word[0].isupper():
            continue
        if word.lower() in _PARTICLES and 0 < index < len(words) - 1:
            continue
        return False
    return True


def _is_organisation(text: str) -> bool:
    return bool(text) and not text[0].islower() and any(ch.isalpha() for ch in text)


_PAREN = re.compile(r"^(.+?)\s*\((.+)\)$")
_AND = re.compile(r"\s+(?:and|&)\s+")


def _is_person_in_brackets(part: str) -> bool:
    paren = _PAREN.match(part)
    return bool(paren and _is_person_name(paren.group(1)))


def _names_and_org(part: str) -> tuple[list[str], str | None] | None:
    """"A and B" → names; "A (Org)" → a name with its organisation; else None."""
    paren = _PAREN.match(part)
    if paren and _is_person_name(paren.group(1)) and _is_organisation(paren.group(2)):
        return [paren.group(1)], paren.group(2).strip()
    names = _AND.split(part)
    if all(_is_person_name(name) for name in names):
        return names, None
    return None


def _speaker_list(parts: list[str], *, is_moderator: bool = False,
                  needs_organisation: bool = True) -> list[ParsedSpeaker] | None:
    """Read parts "Name, Organisation, Name, Organisation..." (an organisation may itself hold
    commas, and "Organisation and Name" starts the next speaker); None when they are not.
    Without a label ("Moderator:") every name needs its organisation: a bare "Key Performance
    Indicators" is more likely the end of a title than a person."""
    speakers: list[ParsedSpeaker] = []
    waiting: list[str] = []  # names read, organisation not yet
    organisation: list[str] = []  # parts of the organisation being read

    def close() -> None:
        org = ", ".join(organisation) if organisation else None
        speakers.extend(ParsedSpeaker(n, org, is_moderator) for n in waiting)
        waiting.clear()
        organisation.clear()

    for position, raw in enumerate(parts):
        part = re.sub(r"^(?:and|&)\s+", "", raw.strip())
        if not part:
            return None
        is_last = position == len(parts) - 1
        if waiting and not organisation:
            # In the organisation's place; it may end with " and Next Name" (whose own
            # organisation follows, so never in the last part).
            head, _, tail = part.rpartition(" and ")
            if head and not is_last and _is_person_name(tail) and _is_organisation(head):
                organisation.append(head)
                close()
                waiting.append(tail)
                continue
            if not _is_organisation(part) or _is_person_in_brackets(part):
                return None
            organisation.append(part)
            continue
        read = _names_and_org(part)
        if read is not None:
            close()
            names, org = read
            waiting.extend(names)
            if org is not None:
                organisation.append(org)
                close()
            continue
        if organisation and _is_organisation(part):
            organisation.append(part)  # a comma inside the organisation's name
            continue
        return None
    if waiting and not organisation and needs_organisation:
        return None
    close()
    return speakers or None


def _split_parts(text: str) -> list[tuple[str, str]]:
    """(separator before, part) for the comma/semicolon separated parts of `text`."""
    pieces = re.split(r"(\s*[,;]\s*)", text)
    parts = [("", pieces[0])]
    for index in range(1, len(pieces) - 1, 2):
        parts.append((pieces[index], pieces[index + 1]))
    return parts


def _title_and_speakers(text: str) -> tuple[str, list[ParsedSpeaker]]:
    """The earliest split where everything after the title reads as speakers."""
    parts = _split_parts(text)
    for start in range(1, len(parts)):
        speakers = _speaker_list([part for _, part in parts[start:]])
        if speakers is not None:
            title = "".join(sep + part for sep, part in parts[:start]).strip()
            if title:
                return title, speakers
    return text.strip(), []


_LABELLED = re.compile(
    r"^\s*(?:(moderat(?:or|ors|ed by|ion)|chair(?:ed by)?|facilitat(?:or|ed by)|host(?:ed by)?)"
    r"|(speakers?|panell?ists?|with|presenters?|presented by))\s*[:\-–]?\s+(.+)$",
    re.IGNORECASE,
)


def _speaker_line(text: str) -> list[ParsedSpeaker] | None:
    """A line under an item naming its speakers or moderator; None if it is not one."""
    labelled = _LABELLED.match(text)
    if labelled:
        parts = [part for _, part in _split_parts(labelled.group(3))]
        return _speaker_list(parts, is_moderator=bool(labelled.group(1)),
                             needs_organisation=False)
    return _speaker_list([part for _, part in _split_parts(text)])


# --- kinds ---------------------------------------------------------------------------------

_KIND_WORDS: tuple[tuple[str, AgendaItemKind], ...] = (
    (r"welcome|opening|introduction|intro", AgendaItemKind.WELCOME),
    (r"q\s*&\s*a|q\s+and\s+a|questions(?: and answers)?", AgendaItemKind.QA),
    (r"(?:coffee |lunch |tea |comfort )?break|coffee|lunch|pause", AgendaItemKind.BREAK),
    (r"panel(?: discussion)?|round ?table", AgendaItemKind.PANEL),
    (r"networking", AgendaItemKind.NETWORKING),
    (r"site visit|study visit|visit|tour", AgendaItemKind.SITE_VISIT),
    (r"discussion|workshop|exchange|dialogue|break-?out", AgendaItemKind.DISCUSSION),
    (r"closing|conclusions?|wrap[- ]up|farewell|next steps", AgendaItemKind.CLOSING),
    (r"keynote|presentation|talk|lecture", AgendaItemKind.TALK),
)


def guess_kind(title: str, speakers: tuple[ParsedSpeaker, ...] = ()) -> AgendaItemKind:
    """The kind an organiser would pick: a word opening the title decides ("Welcome...",
    "Q&A...", "Coffee break"); otherwise an item with speakers is a talk (a panel when a
    moderator leads several), and one without is whatever its title names, or "other"."""
    lowered = " ".join(title.lower().split())
    for pattern, kind in _KIND_WORDS:
        if re.match(rf"(?:{pattern})\b", lowered):
            return kind
    talkers = [s for s in speakers if not s.is_moderator]
    if len(talkers) >= 2 and len(talkers) < len(speakers):
        return AgendaItemKind.PANEL
    if talkers:
        return AgendaItemKind.TALK
    found = [(m.start(), kind) for pattern, kind in _KIND_WORDS
             if (m := re.search(rf"\b(?:{pattern})\b", lowered))]
    return min(found)[1] if found else AgendaItemKind.OTHER


# --- the reader ----------------------------------------------------------------------------


def _clean(line: str) -> str:
    """NFC, no control characters, single spaces (pasted text carries tabs and NBSPs)."""
    text = unicodedata.normalize("NFC", line)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


@dataclass
class _Draft:
    line: int
    starts_at: time
    ends_at: time | None
    text: str
    speakers: list[ParsedSpeaker]


def _finish(draft: _Draft) -> ParsedItem:
    title, speakers = _title_and_speakers(draft.text)
    every = (*speakers, *draft.speakers)
    return ParsedItem(
        line=draft.line, starts_at=draft.starts_at, ends_at=draft.ends_at, title=title,
        kind=guess_kind(title, every), speakers=every,
        is_end_written=draft.ends_at is not None,
    )


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def parse_agenda_text(text: str) -> ParsedAgenda:
    """Read pasted agenda text; never raises on what people type, lists it instead."""
    drafts: list[_Draft] = []
    problems: list[LineNote] = []
    left_out: list[LineNote] = []
    closes_at: time | None = None
    closed_on: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _clean(raw)
        if not line:
            continue
        timed = _TIMED_LINE.match(line)
        if timed is None:
            if closed_on is not None or not drafts:
                why = (_("Left out: after the End line.") if closed_on is not None
                       else _("Left out: before the first time."))
                left_out.append(LineNote(number, line, why, is_problem=False))
                continue
            # A line that plainly goes on from the one above is never a speaker line.
            goes_on = line[0].islower() or re.search(r"(?:\band|&|,|:|-|–)$", drafts[-1].text)
            speakers = None if goes_on else _speaker_line(line)
            if speakers is not None:
                drafts[-1].speakers.extend(speakers)
            else:
                drafts[-1].text = f"{drafts[-1].text} {line}".strip()
            continue
        h1, m1, p1, h2, m2, p2, rest = timed.groups()
        try:
            starts_at = _clock(h1, m1, p1)
            ends_at = _clock(h2, m2, p2 or p1) if h2 is not None else None
        except _BadTime as bad:
            problems.append(LineNote(number, line,
                                     _("%(time)s is not a time of day.") % {"time": bad}))
            continue
        rest = rest.strip()
        if closed_on is not None:
            problems.append(LineNote(
                number, line, _("Comes after the End line (line %(line)s): paste one "
                                "session's agenda at a time.") % {"line": closed_on}))
            continue
        if _END_WORDS.match(rest):
            closes_at, closed_on = starts_at, number
            continue
        if not rest:
            problems.append(LineNote(number, line, _("A time without a title.")))
            continue
        if ends_at is not None and ends_at <= starts_at:
            problems.append(LineNote(
                number, line, _("Ends (%(ends)s) before it starts (%(starts)s).")
                % {"ends": _hhmm(ends_at), "starts": _hhmm(starts_at)}))
            continue
        if drafts and starts_at <= drafts[-1].starts_at:
            previous = drafts[-1]
            backwards = (
                _("Starts (%(starts)s) at the same time as the item above it (line %(line)s, "
                  "%(above)s): times go backwards.") if starts_at == previous.starts_at
                else _("Starts (%(starts)s) before the item above it (line %(line)s, "
                       "%(above)s): times go backwards."))
            problems.append(LineNote(number, line, backwards % {
                "starts": _hhmm(starts_at), "line": previous.line,
                "above": _hhmm(previous.starts_at)}))
            continue
        drafts.append(_Draft(number, starts_at, ends_at, rest, []))
    if closes_at is not None and drafts and closes_at <= drafts[-1].starts_at:
        problems.append(LineNote(
            closed_on or 0, f"{_hhmm(closes_at)} End",
            _("The End (%(end)s) comes before the last item starts (%(starts)s).")
            % {"end": _hhmm(closes_at), "starts": _hhmm(drafts[-1].starts_at)}))
        closes_at = None
    items = [_finish(draft) for draft in drafts]
    resolved: list[ParsedItem] = []
    for index, item in enumerate(items):
        following = items[index + 1].starts_at if index + 1 < len(items) else closes_at
        if item.ends_at is None:
            item = replace(item, ends_at=following)
        elif following is not None and item.ends_at > following:
            problems.append(LineNote(
                item.line, f"{_hhmm(item.starts_at)} {item.title}",
                _("Ends (%(ends)s) after the next item starts (%(next)s).")
                % {"ends": _hhmm(item.ends_at), "next": _hhmm(following)}))
        resolved.append(item)
    if not resolved and not problems:
        problems.append(LineNote(0, "", _("No agenda item found: start each item's line with "
                                 "its time, e.g. \"10:10 Title, Name, Organisation\".")))
    problems.sort(key=lambda note: note.line)
    return ParsedAgenda(items=tuple(resolved), problems=tuple(problems),
                        left_out=tuple(left_out), closes_at=closes_at)
