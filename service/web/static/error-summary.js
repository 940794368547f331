/* Moves focus to the error summary after a form comes back with errors, so the first Tab
 * reaches the first error. Without this script the summary's autofocus does the same. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) { summary.focus(); }
}());
