/* Kiosk: on-screen keypad for the phone number, return to the start when idle, and printing of
   the ticket followed by a return to the start. */
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;

  /* keypad */
  const phone = root.querySelector("input[name=phone]");
  root.addEventListener("click", function (event) {
    const key = event.target.closest("[data-keypad]");
    if (!key || !phone) return;
    const value = key.dataset.keypad;
    if (value === "back") phone.value = phone.value.slice(0, -1);
    else if (phone.value.length < 20) phone.value += value;
  });

  /* one ticket per touch */
  root.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () { form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });

  /* back to the start after a minute without a touch */
  if (root.dataset.idleUrl) {
    const seconds = Number(root.dataset.idleSeconds || 60);
    let timer = null;
    const reset = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { location.href = root.dataset.idleUrl; }, seconds * 1000);
    };
    ["pointerdown", "keydown", "input"].forEach(function (name) { document.addEventListener(name, reset, true); });
    reset();
  }

  /* printed ticket */
  if (root.hasAttribute("data-print")) {
    const again = root.querySelector("[data-reprint]");
    const print = function () { if (window.Hall) window.Hall.print(); else window.print(); };
    if (again) again.addEventListener("click", print);
    const countdown = root.querySelector("[data-countdown]");
    let left = Number(root.dataset.returnSeconds || 12);
    window.addEventListener("load", function () {
      setTimeout(print, 300);
      const timer = setInterval(function () {
        left -= 1;
        if (countdown) countdown.textContent = left > 0 ? (window.Hall ? window.Hall.num(left) : String(left)) : "";
        if (left <= 0) { clearInterval(timer); location.href = root.dataset.returnUrl; }
      }, 1000);
    });
  }
})();
