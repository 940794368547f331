/* What the back office adds around htmx (static/htmx/), which only enhances forms and links
 * that work without any script:
 * - an answer that came from another address than asked (a redirect: the session ended and
 *   the sign-in page answered) is loaded as a whole page, never swapped into a part;
 * - a refusal htmx does not swap (403, 404, 500; a 422 is swapped: the part with its errors)
 *   and a failed connection fall back to the plain request, the link followed or the form
 *   sent as without scripts, so that the server's own page says what happened;
 * - a live filter's form sent with its button or Enter goes as the plain GET (a whole page),
 *   and the live update still waiting is dropped;
 * - choices swapped into a select (a live filter's statuses with their counts) show the one
 *   their markup marks, as on a page load (moved options otherwise keep the last one);
 * - Escape in a row being edited in place cancels the edit.
 * Nothing here is evaluated from attributes: the pages' CSP allows scripts from files only.
 */
(function () {
  "use strict";
  if (!window.htmx) { return; }

  function pathOf(url) { return new URL(url, window.location.href).pathname; }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var info = event.detail.pathInfo || {};
    if (info.responsePath && info.requestPath &&
        pathOf(info.responsePath) !== pathOf(info.requestPath)) {
      event.detail.shouldSwap = false;
      window.location.assign(info.responsePath);
    }
  });

  function plainRequest(event) {
    var detail = event.detail;
    var verb = (detail.requestConfig && detail.requestConfig.verb) || "get";
    var info = detail.pathInfo || {};
    if (verb === "get") {
      window.location.assign(info.finalRequestPath || info.requestPath);
      return;
    }
    var form = detail.elt && detail.elt.closest ? detail.elt.closest("form") : null;
    if (form) { HTMLFormElement.prototype.submit.call(form); }
  }
  document.addEventListener("htmx:responseError", plainRequest);
  document.addEventListener("htmx:sendError", plainRequest);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!event.defaultPrevented && form.hasAttribute("hx-get")) {
      form.setAttribute("data-sent", "");
      window.htmx.trigger(form, "htmx:abort");
    }
  });
  document.addEventListener("htmx:confirm", function (event) {
    var source = event.target;
    if (source.closest && source.closest("form[data-sent]")) { event.preventDefault(); }
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
    });
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var select = event.detail.target;
    if (!(select instanceof HTMLSelectElement) || select.multiple) { return; }
    var marked = Array.prototype.findIndex.call(select.options, function (option) {
      return option.defaultSelected;
    });
    select.selectedIndex = marked >= 0 ? marked : 0;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) { return; }
    var row = event.target.closest("[data-inline-edit]");
    var cancel = row ? row.querySelector("[data-inline-cancel]") : null;
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });
}());
