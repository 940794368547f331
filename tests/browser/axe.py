"""axe-core in the browser tests: every page state a test visits is checked for WCAG 2.x A and
AA failures and axe's best practices, and a failure lists each violation where it happens.

axe.min.js comes from the `axe-playwright-python` wheel (requirements-dev.lock), so the check
needs nothing but pip; only its bundled script is used, run here with our own options.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from playwright.sync_api import Page

# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (landmarks, one h1,
# skip links, ...), which the "0 violations" takes in too.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


@cache
def axe_script() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_version(page: Page) -> str:
    """The axe-core version the checks run with (injects it when missing)."""
    _inject(page)
    return str(page.evaluate("axe.version"))


def _inject(page: Page) -> None:
    # Playwright evaluates through the DevTools protocol, which the pages' CSP does not
    # govern: the pages keep their strict policy while axe runs.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script())


# With scripting disabled the HTML parser reads <noscript> content as elements: the one
# test for "does this page run scripts" that itself needs no timer.
SCRIPTING_PROBE = """(() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<noscript><p></p></noscript>';
  return probe.querySelector('noscript p') === null;
})()"""


def _run(page: Page) -> list[dict[str, Any]]:
    _inject(page)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = page.evaluate("options => axe.run(document, options)", options)
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def _run_on_snapshot(page: Page) -> list[dict[str, Any]]:
    """axe waits on timers, which never fire in a page without scripts: check a copy of the
    page's DOM, served at the same address (so its stylesheets load) to a page that may run
    scripts but whose own are refused by a CSP, so the copy stays the script-less state."""
    html = page.content()
    viewport = page.viewport_size
    assert page.context.browser is not None
    context = page.context.browser.new_context(viewport=viewport)
    try:
        copy = context.new_page()
        copy.route(page.url, lambda route: route.fulfill(
            status=200, body=html, content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'none'"},
        ))
        copy.goto(page.url)
        return _run(copy)
    finally:
        context.close()


# Every stylesheet the page links is applied: axe measures the page as people see it (a
# page read before its styles arrive, on a busy machine, has unstyled 17px-high links).
STYLES_APPLIED = """() => Array.from(document.querySelectorAll('link[rel=stylesheet]'))
    .every(link => link.sheet !== null)"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations for the page as it stands now (the whole document)."""
    page.wait_for_load_state("load")
    page.wait_for_function(STYLES_APPLIED)
    if page.evaluate(SCRIPTING_PROBE):
        return _run(page)
    return _run_on_snapshot(page)


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{violation['helpUrl']}]")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, *, context: str = "") -> None:
    """Fail naming every axe violation on the page: id, impact, target and help.

    `context` names the page state in the failure message ("registration form with errors").
    """
    violations = axe_violations(page)
    if violations:
        where = f"{context} ({page.url})" if context else page.url
        raise AssertionError(
            f"axe-core found {len(violations)} violation(s) on {where}:\n"
            + describe_violations(violations)
        )
