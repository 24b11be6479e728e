/* Counter console: keyboard shortcuts (N call next, R call again, S start, F finish). A key acts
   like a click on the visible button marked data-key; keys typed into fields are left alone.
   Physical keys (event.code) are used, so the shortcuts work with any keyboard layout. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const button = document.querySelector('[data-key="' + event.code + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });
  /* One click, one request: a button stays disabled while its form is being sent. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.target.closest("form");
    if (form) form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.target.closest("form");
    if (form && document.contains(form)) form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
  });
})();
