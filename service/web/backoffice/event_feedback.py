"""What registrants thought of an event (`registration.feedback`), as organisers report it
to their funders and learn from: how many answered of how many were asked, the average
rating and how many gave each, the comments, each with its rating and never a name, and
the answers to the event's own questions (a rating's average and counts, how many chose
each choice, or the words); as a page and as a spreadsheet (`feedback.csv`). Reading needs
an account that sees the event; its editors find the link to their own questions here.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get

from service.clock import utc_now
from service.domain.registration import feedback
from service.domain.times import local_date
from service.domain.wording import date_text
from service.i18n import gettext as _
from service.web.backoffice.event_figures import spreadsheet_response
from service.web.backoffice.event_pages import event_for, heading
from service.web.backoffice.guards import BACKOFFICE_PATH, CurrentAccount, require_account
from service.web.backoffice.rendering import AnyRequest, organiser_page
from service.web.params import DbSession, IdParam


def _scale_labels() -> dict[int, str]:
    return {rating: _(label) for rating, label in feedback.SCALE_LABELS.items()}


class EventFeedbackController(Controller):
    path = BACKOFFICE_PATH
    guards = [require_account]
    include_in_schema = False

    @get("/events/{event_id:int}/feedback")
    async def show_feedback(self, request: AnyRequest, db_session: DbSession,
                            account: CurrentAccount, event_id: IdParam) -> Response[Any]:
        event = await event_for(db_session, account, event_id)
        summary = await feedback.feedback_summary(db_session, event.id, utc_now())
        titles = {s.id: s.title for s in event.sessions}
        return organiser_page(request, "event_feedback.html", {
            "title": _("Feedback: %(title)s") % {"title": event.title}, "nav": "events",
            "event": heading(event, account), "summary": summary.event,
            # Each rating: its label and how many gave it, 5 first.
            "ratings": [(_(feedback.RATING_LABELS[r]), summary.event.counts[r])
                        for r in reversed(feedback.RATINGS)],
            # Each session asked about: its title, answers of asked, and their average.
            "sessions": [(s.title, summary.sessions[s.id])
                         for s in sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
                         if s.id in summary.sessions],
            "comments": [(titles.get(c.session_id, ""), c.rating, c.most_useful, c.to_improve,
                          date_text(local_date(c.given_at, event.timezone)))
                         for c in summary.comments],
            # Each own question: its wording, how many answered, and a rating's average and
            # counts (5 first), or how many chose each choice, or the words, each with its
            # session and day.
            "questions": [(result.question.text, result.answers, result.tally,
                           [(label, result.tally.counts[r]) for r, label
                            in reversed(list(_scale_labels().items()))] if result.tally
                           else result.choices,
                           [(titles.get(w.session_id, ""), w.text,
                             date_text(local_date(w.given_at, event.timezone)))
                            for w in result.words])
                          for result in summary.questions],
        })

    @get("/events/{event_id:int}/feedback.csv")
    async def feedback_spreadsheet(self, db_session: DbSession, account: CurrentAccount,
                                   event_id: IdParam) -> Response[bytes]:
        """The counts of each rating, then the comments, each with its session, rating and
        day."""
        event = await event_for(db_session, account, event_id)
        summary = await feedback.feedback_summary(db_session, event.id, utc_now())
        titles = {s.id: s.title for s in event.sessions}
        rows: list[list[object]] = [["session", "rating", "answers", "most useful",
                                     "to improve", "day", "question", "answer"]]
        rows += [["", rating, count, "", "", "", "", ""]
                 for rating, count in summary.event.counts.items()]
        rows += [[titles.get(c.session_id, ""), c.rating, "", c.most_useful, c.to_improve,
                  local_date(c.given_at, event.timezone).isoformat(), "", ""]
                 for c in summary.comments]
        # The own questions: a rating's counts, each choice's, or each answer in words.
        for result in summary.questions:
            wording = result.question.text
            if result.tally is not None:
                rows += [["", rating, count, "", "", "", wording, ""]
                         for rating, count in result.tally.counts.items()]
            rows += [["", "", count, "", "", "", wording, choice]
                     for choice, count in result.choices]
            rows += [[titles.get(w.session_id, ""), "", "", "", "",
                      local_date(w.given_at, event.timezone).isoformat(), wording, w.text]
                     for w in result.words]
        return spreadsheet_response(rows, f"feedback-{event.slug}.csv")
