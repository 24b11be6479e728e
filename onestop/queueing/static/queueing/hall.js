/* Shared helpers of the hall screens: placeholders, per-language texts, a WebSocket that
   reconnects with backoff, and live panels refreshed by htmx when the centre's board changes. */
(function () {
  "use strict";

  const Hall = {};

  /* Fill "%(name)s" placeholders of a translated sentence. */
  Hall.fmt = function (template, params) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : match;
    });
  };

  /* Pick a language from a per-language mapping of catalogue texts. */
  Hall.tr = function (texts, lang) {
    if (!texts || typeof texts !== "object") return texts || "";
    if (texts[lang]) return texts[lang];
    const base = String(lang || "").split("-")[0];
    if (texts[base]) return texts[base];
    for (const key of Object.keys(texts)) if (texts[key]) return texts[key];
    return "";
  };

  Hall.json = function (id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };

  Hall.minutes = function (estimate) {
    const mean = Math.max(1, Math.round(estimate.mean_minutes));
    return { mean: mean, p95: Math.max(mean, Math.ceil(estimate.p95_minutes)) };
  };

  /* Plain quantities (people waiting, minutes) in the digits of ``lang`` (default: the page's),
     as the server's ``local_digits`` filter: Persian digits in fa, Latin in az, en, ru. Ticket and
     counter numbers are codes printed on paper and signs: they never go through this. */
  const numberFormats = {};
  Hall.num = function (n, lang) {
    if (typeof n !== "number" || !isFinite(n)) return n == null ? "" : String(n);
    const key = lang || document.documentElement.lang || "";
    if (!Object.prototype.hasOwnProperty.call(numberFormats, key)) {
      try { numberFormats[key] = new Intl.NumberFormat(key || undefined); } catch (err) { numberFormats[key] = null; }
    }
    return numberFormats[key] ? numberFormats[key].format(n) : String(n);
  };

  /* The placeholders of an estimate sentence ("%(mean)s", "%(p95)s"), written in ``lang``'s digits. */
  Hall.localMinutes = function (estimate, lang) {
    const minutes = Hall.minutes(estimate);
    return { mean: Hall.num(minutes.mean, lang), p95: Hall.num(minutes.p95, lang) };
  };

  /* A WebSocket to ``path`` that comes back after a drop: 0.5 s, 1 s, 2 s ... at most 30 s, with jitter. */
  Hall.connect = function (path, handlers) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    let delay = 500;
    let socket = null;
    let timer = null;
    let stopped = false;
    const status = handlers.onStatus || function () {};
    function open() {
      socket = new WebSocket(url);
      socket.onopen = function () { delay = 500; status(true); };
      socket.onmessage = function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (err) { return; }
        handlers.onMessage(data);
      };
      socket.onclose = function (event) {
        status(false);
        if (stopped || event.code === 4404) return;
        const wait = delay * (0.75 + Math.random() * 0.5);
        delay = Math.min(delay * 2, 30000);
        timer = setTimeout(open, wait);
      };
      socket.onerror = function () { try { socket.close(); } catch (err) { /* closing anyway */ } };
    }
    open();
    window.addEventListener("online", function () {
      if (socket && socket.readyState === WebSocket.CLOSED) { clearTimeout(timer); delay = 500; open(); }
    });
    return { close: function () { stopped = true; clearTimeout(timer); if (socket) socket.close(); } };
  };

  /* Clocks: <time data-clock data-tz="Asia/Baku" data-lang="az"> shows the centre's local time. */
  function startClocks() {
    const clocks = document.querySelectorAll("[data-clock]");
    if (!clocks.length) return;
    function tick() {
      clocks.forEach(function (el) {
        try {
          el.textContent = new Intl.DateTimeFormat(el.dataset.lang || document.documentElement.lang,
            { hour: "2-digit", minute: "2-digit", timeZone: el.dataset.tz || undefined }).format(new Date());
        } catch (err) { el.textContent = new Date().toTimeString().slice(0, 5); }
      });
    }
    tick();
    setInterval(tick, 1000);
  }

  /* Live panels: an element with data-live-ws listens to the centre's board; every element with
     data-live (an htmx element with hx-trigger="board-update") refreshes on each push. */
  function startLivePanels() {
    const root = document.querySelector("[data-live-ws]");
    if (!root) return;
    let first = true;
    let pending = null;
    Hall.connect(root.dataset.liveWs, {
      onMessage: function () {
        if (first) { first = false; return; }  // the page is already fresh when the socket opens
        clearTimeout(pending);
        pending = setTimeout(function () {
          if (!window.htmx) return;
          document.querySelectorAll("[data-live]").forEach(function (el) { window.htmx.trigger(el, "board-update"); });
        }, 150);
      },
      onStatus: function (ok) {
        if (!ok) first = false;
        root.dataset.connected = ok ? "1" : "0";
      },
    });
  }

  /* htmx: a refusal (400/403/409/422) carries the message to show, so swap it in. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    const code = event.detail.xhr.status;
    if (code === 400 || code === 403 || code === 409 || code === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  /* Printed slips: the page is 80 mm wide and exactly as long as the slip (thermal paper roll). */
  Hall.fitPrintPage = function () {
    const slip = document.querySelector(".slip");
    if (!slip) return;
    const millimetres = Math.ceil(slip.getBoundingClientRect().height * 25.4 / 96) + 8;
    let style = document.getElementById("slip-page-size");
    if (!style) {
      style = document.createElement("style");
      style.id = "slip-page-size";
      document.head.append(style);
    }
    style.textContent = "@page { size: 80mm " + millimetres + "mm; margin: 0 }";
  };
  Hall.print = function () { Hall.fitPrintPage(); window.print(); };
  window.addEventListener("beforeprint", function () { Hall.fitPrintPage(); });

  /* Buttons that print the page (reception slip). */
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-print-now]");
    if (button) Hall.print();
  });

  document.addEventListener("DOMContentLoaded", function () {
    startClocks();
    startLivePanels();
  });

  window.Hall = Hall;
})();
