"""An email sent to many people is rendered once per shape and filled in per recipient:
the text must be exactly what a render of its own gives, and a template that does more than
print a personal value (a filter on it) must be rendered whole for everyone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifications import render

NAMES = ["Ana Silva", "Zoë <b>O'Neill</b> & \"Co\"", "Ben", "Cleo Early-Riser"]
PLAIN_TXT = """{% block subject %}{{ _("Your links for %(title)s", title=title) }}{% endblock %}
{{ _("Dear %(name)s,", name=recipient_name) }}
{{ recipient_name }} / {{ title }}
{{ manage_url }}
{% if feed_url is defined %}{{ feed_url }}{% endif %}
"""
PLAIN_HTML = """<p>{{ _("Dear %(name)s,", name=recipient_name) }}</p>
<p>{% trans url=manage_url %}<a href="{{ url }}">Your page</a>{% endtrans %}</p>
<p title="{{ recipient_name }}">{{ title }}</p>
"""


def _templates(directory: Path, name: str, text: str, html: str) -> None:
    (directory / f"{name}.txt").write_text(text, encoding="utf-8")
    (directory / f"{name}.html").write_text(html, encoding="utf-8")


def _context(name: str, number: int) -> dict[str, Any]:
    return {"recipient_name": name, "title": "Fair ICT <webinars>",
            "manage_url": f"https://events.example.org/registrations/tok{number}?a=1&b=2"}


@pytest.fixture(autouse=True)
def _no_shapes() -> None:
    render.clear_shapes()


def test_plain_values_are_filled_into_one_render_and_read_as_if_rendered_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _templates(tmp_path, "links_to_registrant", PLAIN_TXT, PLAIN_HTML)
    rendered_for: list[object] = []
    render_raw = render._render_raw

    def counting(template: str, context: Any, *args: Any) -> tuple[str, str, str]:
        rendered_for.append(context["recipient_name"])
        return render_raw(template, context, *args)

    monkeypatch.setattr(render, "_render_raw", counting)
    for language in ("en", "fr"):
        for number, name in enumerate(NAMES):
            context = _context(name, number)
            got = render.render_email("links_to_registrant", context, language,
                                      directory=tmp_path)
            # What a render of its own gives (the uncached path).
            assert got == render._render("links_to_registrant", context, language, tmp_path)
    # Per language: the first whole; the second whole and twice with markers (learnt);
    # then filled in. (The reference renders above are counted too: one per email.)
    whole = [n for n in rendered_for if isinstance(n, str) and "\ue000" not in n]
    markers = [n for n in rendered_for if isinstance(n, str) and "\ue000" in n]
    assert (len(whole), len(markers)) == (2 * (len(NAMES) + 2), 2 * 2)


@pytest.mark.parametrize("use", [
    "{{ recipient_name | upper }}",
    "{{ recipient_name | length }}",
    "{{ recipient_name | truncate(9, True, '') }}",
    "{{ recipient_name | wordwrap(6) }}",
])
def test_a_filtered_personal_value_makes_every_email_rendered_whole(
    tmp_path: Path, use: str,
) -> None:
    _templates(tmp_path, "filtered_to_registrant",
               "{% block subject %}Hello{% endblock %}\n" + use + "\n{{ manage_url }}\n",
               "<p>" + use + "</p>\n")
    for number, name in enumerate(NAMES * 2):
        context = _context(name, number)
        assert render.render_email("filtered_to_registrant", context, directory=tmp_path) == \
            render._render("filtered_to_registrant", context, "en", tmp_path)


def test_a_value_printed_unescaped_in_html_makes_every_email_rendered_whole(
    tmp_path: Path,
) -> None:
    _templates(tmp_path, "unsafe_to_registrant",
               "{% block subject %}Hello{% endblock %}\n{{ recipient_name }}\n",
               "<p>{{ recipient_name | safe }}</p>\n")
    for number, name in enumerate(NAMES * 2):
        context = _context(name, number)
        assert render.render_email("unsafe_to_registrant", context, directory=tmp_path) == \
            render._render("unsafe_to_registrant", context, "en", tmp_path)


def test_a_personal_value_in_the_subject_makes_every_email_rendered_whole(
    tmp_path: Path,
) -> None:
    _templates(tmp_path, "subject_to_registrant",
               "{% block subject %}For {{ recipient_name }}{% endblock %}\n{{ subject }}\n",
               "<title>{{ subject }}</title>\n")
    for number, name in enumerate(["Ana  Silva", "Ben   Okafor", "Cleo Early", "Dee"]):
        context = _context(name, number)
        got = render.render_email("subject_to_registrant", context, directory=tmp_path)
        assert got == render._render("subject_to_registrant", context, "en", tmp_path)
        assert got.subject == "For " + " ".join(name.split())
