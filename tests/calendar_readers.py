"""Four iCalendar parsers as calendar apps use them, and the iTIP rules invites must keep.

- icalendar and vobject (Python, in the test environment); vobject is also asked to resolve
  every TZID through the calendar's own VTIMEZONE (dateutil's tzical), so the emitted
  blocks are what is tested rather than vobject's zone registry;
- ical.js 2 (Thunderbird's parser), through `node`, installed once by npm into a cache
  outside the repository;
- libical 3 (Evolution's), through the machine's Python with GObject introspection
  (Debian: `gir1.2-ical-3.0`, which `tasks.py test` installs where it may). Its
  `check_restrictions` is the iTIP validator: it flags, for instance, STATUS:CANCELLED
  inside a METHOD:REQUEST.

The two external parsers read a whole batch of calendars per process. When one cannot
run here, the test that needs it is skipped with the reason, never silently passed.
`itip_violations` checks a sequence of emails to one person against the rules of RFC 5546
that mail clients act on.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest
import vobject
from icalendar import Calendar

Instants = dict[str, tuple[datetime, datetime]]


# ------------------------------------------------------------------ Python parsers


def read_icalendar(body: bytes) -> Instants:
    cal = Calendar.from_ical(body)
    out: Instants = {}
    for event in cal.walk("VEVENT"):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        out[str(event["UID"])] = (start.astimezone(UTC), end.astimezone(UTC))
    return out


def read_vobject(body: bytes) -> Instants:
    vcal = vobject.readOne(body.decode("utf-8"))
    out: Instants = {}
    for event in vcal.contents.get("vevent", []):
        out[event.uid.value] = (
            event.dtstart.value.astimezone(UTC),
            event.dtend.value.astimezone(UTC),
        )
    return out


def read_vobject_via_vtimezones(body: bytes) -> Instants:
    """Resolve each TZID through the calendar's own VTIMEZONE (dateutil's tzical), not
    through vobject's process-wide registry or pytz, so the emitted blocks are tested."""
    vcal = vobject.readOne(body.decode("utf-8"))
    zones = {vtz.tzid.value: vtz.gettzinfo() for vtz in vcal.contents.get("vtimezone", [])}
    cal = Calendar.from_ical(body)
    out: Instants = {}
    for event in cal.walk("VEVENT"):
        pair = []
        for key in ("DTSTART", "DTEND"):
            prop: Any = event[key]
            tzid = prop.params.get("TZID")
            value: datetime = prop.dt
            if tzid is not None:
                value = value.replace(tzinfo=zones[tzid])
            pair.append(value.astimezone(UTC))
        out[str(event["UID"])] = (pair[0], pair[1])
    return out


def assert_parsers_agree(body: bytes, expected: Instants) -> None:
    assert read_icalendar(body) == expected
    assert read_vobject(body) == expected
    assert read_vobject_via_vtimezones(body) == expected


def unfolded(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def blocks(body: bytes, name: str) -> list[list[str]]:
    """Unfolded content lines of every NAME component (outermost match)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in unfolded(body):
        if line == f"BEGIN:{name}":
            current = []
        elif line == f"END:{name}" and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return found


# ---------------------------------------------------------------- ical.js


ICALJS_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "procura-events" / "icaljs"
)
ICALJS_SCRIPT = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const ICAL = (await import(pathToFileURL(process.argv[2]).href)).default;
const calendars = process.argv.slice(3).map((path) => {
  const root = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  // ical.js ships no zone data: every TZID resolves through the calendar's VTIMEZONEs.
  for (const vtz of root.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(vtz);
  const events = root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      summary: event.summary,
      sequence: event.sequence,
      tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
      start: event.startDate.toUnixTime(),
      end: event.endDate.toUnixTime(),
    };
  });
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(vtz.getFirstPropertyValue("tzid"));
  }
  return { method: root.getFirstPropertyValue("method"), events };
});
console.log(JSON.stringify(calendars));
"""


def _icaljs_module() -> Path:
    """Install ical.js 2 once into a cache outside the repository; skip if impossible."""
    module = ICALJS_CACHE / "node_modules" / "ical.js" / "dist" / "ical.js"
    if module.exists():
        return module
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("ical.js check skipped: `npm` is not on PATH")
    ICALJS_CACHE.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            [npm, "install", "--prefix", str(ICALJS_CACHE), "--no-audit", "--no-fund", "ical.js@2"],
            capture_output=True,
            text=True,
            timeout=25,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(
            f"ical.js check skipped: `npm install ical.js@2` into {ICALJS_CACHE} took over 25 s"
        )
    if result.returncode != 0 or not module.exists():
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        pytest.skip(
            f"ical.js check skipped: `npm install ical.js@2` into {ICALJS_CACHE} "
            f"failed (exit {result.returncode}): {' | '.join(tail)}"
        )
    return module


def _write_all(bodies: Sequence[bytes], tmp_path: Path, prefix: str) -> list[str]:
    paths = []
    for index, body in enumerate(bodies):
        path = tmp_path / f"{prefix}-{index}.ics"
        path.write_bytes(body)
        paths.append(str(path))
    return paths


def read_icaljs_many(bodies: Sequence[bytes], tmp_path: Path) -> list[dict[str, Any]]:
    """Each calendar as ical.js reads it: {"method", "events": [{uid, start, end, ...}]}."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("ical.js check skipped: no `node`")
    module = _icaljs_module()
    script = tmp_path / "read-icaljs.mjs"
    script.write_text(ICALJS_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [node, str(script), str(module), *_write_all(bodies, tmp_path, "icaljs")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def read_icaljs(body: bytes, tmp_path: Path) -> list[dict[str, object]]:
    events: list[dict[str, object]] = read_icaljs_many([body], tmp_path)[0]["events"]
    return events


# ---------------------------------------------------------------- libical

# Run by the machine's own Python (GObject introspection is not in the virtualenv).
LIBICAL_SCRIPT = """
import json, sys
import gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as I

def instant(value):
    zone = value.get_timezone()
    return I.Time.as_timet_with_zone(value, zone) if zone is not None else I.Time.as_timet(value)

def errors_in(component, found):
    prop = component.get_first_property(I.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        found.append(prop.get_xlicerror())
        prop = component.get_next_property(I.PropertyKind.XLICERROR_PROPERTY)
    sub = component.get_first_component(I.ComponentKind.ANY_COMPONENT)
    while sub is not None:
        errors_in(sub, found)
        sub = component.get_next_component(I.ComponentKind.ANY_COMPONENT)
    return found

out = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", newline="") as handle:
        calendar = I.Component.new_from_string(handle.read())
    calendar.check_restrictions()  # iTIP rules per METHOD: X-LIC-ERROR where broken
    events = []
    event = calendar.get_first_component(I.ComponentKind.VEVENT_COMPONENT)
    while event is not None:
        status = event.get_first_property(I.PropertyKind.STATUS_PROPERTY)
        events.append({
            "uid": event.get_uid(), "sequence": event.get_sequence(),
            "start": instant(event.get_dtstart()), "end": instant(event.get_dtend()),
            "status": status.get_value_as_string() if status is not None else None,
            "tzid": event.get_dtstart().get_tzid(),
        })
        event = calendar.get_next_component(I.ComponentKind.VEVENT_COMPONENT)
    method = calendar.get_first_property(I.PropertyKind.METHOD_PROPERTY)
    out.append({"method": method.get_value_as_string() if method is not None else None,
                "events": events, "errors": errors_in(calendar, [])})
print(json.dumps(out))
"""
SYSTEM_PYTHON = "/usr/bin/python3"


def read_libical_many(bodies: Sequence[bytes], tmp_path: Path) -> list[dict[str, Any]]:
    """Each calendar as libical reads it, with the errors its iTIP check adds."""
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"libical check skipped: no {SYSTEM_PYTHON}")
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c",
         "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"],
        capture_output=True, text=True, timeout=20, check=False,
    )
    if probe.returncode != 0:
        pytest.skip("libical check skipped: the machine's Python lacks ICalGLib "
                    "(Debian: apt-get install gir1.2-ical-3.0 python3-gi)")
    script = tmp_path / "read-libical.py"
    script.write_text(LIBICAL_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [SYSTEM_PYTHON, str(script), *_write_all(bodies, tmp_path, "libical")],
        capture_output=True, text=True, timeout=30, check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


# ------------------------------------------------------------------ emails


@dataclass(frozen=True)
class CalendarPart:
    """One text/calendar part of an email, as it travelled."""

    email_index: int
    mime_method: str | None
    filename: str | None
    body: bytes


def calendar_parts(raw: bytes, email_index: int = 0) -> list[CalendarPart]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    parts = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            method = part.get_param("method")
            parts.append(CalendarPart(email_index, str(method) if method else None,
                                      part.get_filename(), payload))
    return parts


def _one(lines: list[str], name: str) -> str | None:
    values = [line.split(":", 1)[1] for line in lines if line.split(":", 1)[0].split(";")[0] == name]
    return values[0] if values else None


def itip_violations(emails: Sequence[bytes]) -> list[str]:
    """RFC 5546 rules, over the emails one person received, in the order they were sent.

    Each text/calendar part: the VCALENDAR's METHOD equals the MIME `method` parameter; one
    UID per iTIP object; no STATUS:CANCELLED in a REQUEST; one method per email. Per UID
    across the emails: SEQUENCE never goes down, and goes up from one email to the next
    whenever the method changes (REQUEST < CANCEL < REQUEST again) or the time, place or
    status does.
    """
    problems: list[str] = []
    last: dict[str, tuple[int, int, str, tuple[str | None, ...]]] = {}
    for index, raw in enumerate(emails):
        parts = calendar_parts(raw, index)
        methods = {part.mime_method for part in parts}
        if len(methods) > 1:
            problems.append(f"email {index}: several methods {sorted(map(str, methods))}")
        seen_here: dict[str, tuple[int, tuple[str | None, ...]]] = {}
        for part in parts:
            where = f"email {index} {part.filename or 'inline'}"
            method = _one(unfolded(part.body), "METHOD")
            if method != part.mime_method:
                problems.append(f"{where}: METHOD {method} but MIME method {part.mime_method}")
            events = blocks(part.body, "VEVENT")
            uids = {_one(lines, "UID") for lines in events}
            if method is not None and len(uids) != 1:
                problems.append(f"{where}: {len(uids)} UIDs in one iTIP {method}")
            for lines in events:
                uid = str(_one(lines, "UID"))
                sequence = int(_one(lines, "SEQUENCE") or 0)
                facts = (_one(lines, "DTSTART"), _one(lines, "DTEND"), _one(lines, "LOCATION"),
                         _one(lines, "STATUS"))
                if method == "REQUEST" and facts[3] == "CANCELLED":
                    problems.append(f"{where}: {uid} is CANCELLED inside a REQUEST")
                if uid in seen_here:  # the same invite inline and attached: identical
                    if seen_here[uid] != (sequence, facts):
                        problems.append(f"{where}: {uid} differs between parts of one email")
                    continue
                seen_here[uid] = (sequence, facts)
                before = last.get(uid)
                if before is not None:
                    before_index, before_sequence, before_method, before_facts = before
                    must_rise = before_method != method or before_facts != facts
                    if sequence < before_sequence or (must_rise and sequence == before_sequence):
                        problems.append(
                            f"{where}: {uid} {method} SEQUENCE {sequence} after "
                            f"{before_method} SEQUENCE {before_sequence} (email {before_index})")
                last[uid] = (index, sequence, str(method), facts)
    return problems


# ------------------------------------------------------------------ recurring series

ICALJS_EXPAND_SCRIPT = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const ICAL = (await import(pathToFileURL(process.argv[2]).href)).default;
const calendars = process.argv.slice(3).map((path) => {
  const root = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  for (const vtz of root.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(vtz);
  const vevents = root.getAllSubcomponents("vevent");
  const out = [];
  for (const master of vevents.filter((v) => !v.hasProperty("recurrence-id"))) {
    const event = new ICAL.Event(master);
    for (const v of vevents) {
      if (v.hasProperty("recurrence-id") && v.getFirstPropertyValue("uid") === event.uid) {
        event.relateException(v);
      }
    }
    if (!event.isRecurring()) {
      out.push([event.uid, event.startDate.toUnixTime(), event.endDate.toUnixTime()]);
      continue;
    }
    const iterator = event.iterator();
    for (let next = iterator.next(), n = 0; next && n < 2000; next = iterator.next(), n++) {
      const details = event.getOccurrenceDetails(next);
      out.push([event.uid, details.startDate.toUnixTime(), details.endDate.toUnixTime()]);
    }
  }
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(vtz.getFirstPropertyValue("tzid"));
  }
  return out;
});
console.log(JSON.stringify(calendars));
"""

Occurrences = list[tuple[datetime, datetime]]


def expand_icaljs_many(bodies: Sequence[bytes], tmp_path: Path) -> list[Occurrences]:
    """Each calendar's occurrences (UTC start, end), as Thunderbird's ical.js expands its
    recurring events (RRULE, EXDATE, and the VEVENTs with a RECURRENCE-ID), sorted."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("ical.js check skipped: no `node`")
    module = _icaljs_module()
    script = tmp_path / "expand-icaljs.mjs"
    script.write_text(ICALJS_EXPAND_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [node, str(script), str(module), *_write_all(bodies, tmp_path, "expand")],
        capture_output=True, text=True, timeout=60, check=True,
    )
    parsed: list[list[list[Any]]] = json.loads(result.stdout)
    return [sorted((datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
                   for _, start, end in calendar) for calendar in parsed]


def expand_vobject(body: bytes) -> Occurrences:
    """The occurrences as vobject (dateutil's rruleset, with EXDATEs) gives them, each
    replaced by its VEVENT with that RECURRENCE-ID where there is one, sorted (UTC)."""
    vcal = vobject.readOne(body.decode("utf-8"))
    events = vcal.contents.get("vevent", [])
    overrides: dict[tuple[str, datetime], tuple[datetime, datetime]] = {}
    for event in events:
        if "recurrence-id" in event.contents:
            key = (event.uid.value, event.recurrence_id.value.astimezone(UTC))
            overrides[key] = (event.dtstart.value.astimezone(UTC),
                              event.dtend.value.astimezone(UTC))
    found: Occurrences = []
    for event in events:
        if "recurrence-id" in event.contents:
            continue
        length = event.dtend.value - event.dtstart.value
        starts = event.getrruleset(addRDate=True) or [event.dtstart.value]
        for start in starts:
            key = (event.uid.value, start.astimezone(UTC))
            found.append(overrides.get(key, (start.astimezone(UTC),
                                             (start + length).astimezone(UTC))))
    return sorted(found)
