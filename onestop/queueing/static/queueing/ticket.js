/* Ticket phone page: live status, position, estimate and counter over /ws/ticket/<token>/. */
(function () {
  "use strict";
  const root = document.getElementById("ticket");
  if (!root || !window.Hall) return;
  const Hall = window.Hall;
  const texts = Hall.json("ticket-texts") || {};
  const labels = Hall.json("ticket-labels") || {};
  const lang = document.documentElement.lang;  // the page's language: position and minutes in its digits
  const field = function (name) { return root.querySelector('[data-field="' + name + '"]'); };
  let last = Hall.json("ticket-state") || {};

  function render(state) {
    root.className = root.className.replace(/\bstatus-\S+/g, "").trim() + " status-" + state.status;
    root.dataset.status = state.status;
    field("status").textContent = labels[state.status] || state.status_label || state.status;
    const atCounter = (state.status === "called" || state.status === "serving") && state.counter != null;
    field("call").hidden = !atCounter;
    if (atCounter) field("call").textContent = Hall.fmt(texts.go_to, { counter: state.counter });
    const ahead = field("ahead");
    ahead.hidden = state.position == null;
    if (state.position != null) {
      ahead.textContent = state.position === 0 ? texts.next : Hall.fmt(texts.ahead, { count: Hall.num(state.position, lang) });
    }
    const estimate = field("estimate");
    estimate.hidden = !state.estimate;
    if (state.estimate) estimate.querySelector("bdi").textContent = Hall.fmt(texts.estimate, Hall.localMinutes(state.estimate, lang));
    field("cancel").hidden = !state.can_cancel;
    if (state.status === "called" && (last.status !== "called" || state.recalls !== last.recalls)) {
      if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
      document.title = "▶ " + state.number + " · " + (state.counter != null ? state.counter : "");
    }
    last = state;
  }

  const form = field("cancel");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  Hall.connect(root.dataset.ws, {
    onMessage: function (message) { if (message && message.type === "ticket" && message.ticket) render(message.ticket); },
    onStatus: function (ok) { field("offline").hidden = ok; root.dataset.connected = ok ? "1" : "0"; },
  });
})();
