"""Lists of links organisers write in a text box, one a line: `Title | https://...`, or the
address alone (its title is then the address). The minutes of a group's meeting and a
session's materials are written so."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from service.domain.errors import FieldError, InvalidInputError
from service.domain.text import clean_line

ADDRESS = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$")
MAX_ADDRESS = 1_000
MAX_TITLE = 300


@dataclass(frozen=True)
class Link:
    title: str
    url: str


def read_lines(raw: str) -> list[Link]:
    """Each non-blank line as a link, as written (checked by `check_links`)."""
    found = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        title, _bar, url = line.rpartition("|") if "|" in line else ("", "", line)
        found.append(Link(title=title.strip(), url=url.strip()))
    return found


def check_links(links: Sequence[Link], field: str, *, most: int, too_many: str,
                bad_address: str) -> tuple[list[Link], list[FieldError]]:
    """The links as kept (titles on one line, an untitled link named by its address) and
    every problem at once, each named `field[N].url` or `field[N].title` (N from 0, as the API
    names a problem in a JSON body)."""
    problems: list[FieldError] = []
    if len(links) > most:
        problems.append(FieldError(field, too_many))
    kept: list[Link] = []
    for index, link in enumerate(links[:most]):
        url = link.url.strip()
        if not ADDRESS.match(url) or len(url) > MAX_ADDRESS:
            problems.append(FieldError(f"{field}[{index}].url", bad_address))
            continue
        try:
            title = clean_line(link.title, f"{field}[{index}].title", max_length=MAX_TITLE)
        except InvalidInputError as error:
            problems.extend(error.errors)
            continue
        kept.append(Link(title=title or url, url=url))
    return kept, problems
