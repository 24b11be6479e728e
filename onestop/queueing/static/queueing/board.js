/* Display board: re-renders from every pushed snapshot (never polls); announces each call with a
   chime (Web Audio) and the spoken sentence (speechSynthesis), or a flash of the row when the
   browser has no voice for the board's language. */
(function () {
  "use strict";
  const root = document.getElementById("board");
  if (!root || !window.Hall) return;
  const Hall = window.Hall;
  const lang = root.dataset.lang || document.documentElement.lang;
  const zone = root.dataset.zone || "";
  const speech = root.dataset.speech || "%(number)s → %(counter)s";
  const texts = Hall.json("board-texts") || {};
  const counterZones = Hall.json("board-counter-zones") || {};
  const zoneGroups = Hall.json("board-zone-groups") || [];
  const callsBody = document.getElementById("board-calls");
  const groupsBody = document.getElementById("board-groups");
  const offline = document.getElementById("board-offline");
  const soundButton = document.getElementById("board-sound");
  const clock = document.getElementById("board-clock");
  window.__boardCalls = window.__boardCalls || [];

  /* Counts and minutes in the board's digits, as the clock (Persian digits in fa); ticket and
     counter numbers stay as printed on the slip and the counter sign. */
  function num(n) { return Hall.num(n, lang); }

  function inZone(counter) { return !zone || counterZones[String(counter)] === zone; }

  function cell(content, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (content instanceof Node) td.append(content); else td.textContent = content == null ? "" : String(content);
    return td;
  }

  function ltr(text) {
    const bdi = document.createElement("bdi");
    bdi.dir = "ltr";
    bdi.textContent = text;
    return bdi;
  }

  function renderCalls(calls) {
    const rows = calls.filter(function (c) { return inZone(c.counter); });
    const frag = document.createDocumentFragment();
    if (!rows.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(texts.no_calls || "");
      td.colSpan = 2;
      tr.append(td);
      frag.append(tr);
    }
    rows.forEach(function (c, index) {
      const tr = document.createElement("tr");
      tr.dataset.id = c.id;
      tr.className = (index === 0 ? "newest " : "") + "status-" + c.status;
      tr.append(cell(ltr(c.number)), cell(c.counter));
      frag.append(tr);
    });
    callsBody.replaceChildren(frag);
  }

  function estimateText(estimate) {
    if (!estimate) return texts.no_estimate || "";
    return Hall.fmt(texts.estimate_range, Hall.localMinutes(estimate, lang));
  }

  function renderGroups(groups) {
    const frag = document.createDocumentFragment();
    groups.forEach(function (g) {
      if (zone && zoneGroups.indexOf(g.group) < 0) return;
      const tr = document.createElement("tr");
      tr.dataset.group = g.group;
      const prefix = document.createElement("span");
      prefix.className = "board-prefix";
      prefix.textContent = g.prefix;
      const name = document.createElement("span");
      name.textContent = Hall.tr(g.name, lang) || g.group;
      const group = document.createElement("span");
      group.className = "board-group";
      group.append(prefix, name);
      const estimate = document.createElement("bdi");
      estimate.textContent = estimateText(g.estimate);
      tr.append(cell(group), cell(num(g.waiting), "num"), cell(estimate, "board-estimate"));
      frag.append(tr);
    });
    groupsBody.replaceChildren(frag);
  }

  /* ---------------------------------------------------------------- sound */
  let audio = null;
  function audioContext() {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      try { audio = new Ctx(); } catch (err) { return null; }
    }
    return audio;
  }
  function refreshSoundButton() {
    const ctx = audioContext();
    soundButton.hidden = !ctx || ctx.state === "running";
  }
  soundButton.addEventListener("click", function () {
    const ctx = audioContext();
    if (ctx) ctx.resume().then(refreshSoundButton, refreshSoundButton);
    if ("speechSynthesis" in window) speechSynthesis.getVoices();
  });

  /* Two soft tones; returns how long to wait before speaking (ms). */
  function chime() {
    const ctx = audioContext();
    if (!ctx) return 0;
    if (ctx.state !== "running") { ctx.resume().catch(function () {}); refreshSoundButton(); }
    const start = ctx.currentTime + 0.03;
    [[880, 0], [659.25, 0.38]].forEach(function (tone) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = tone[0];
      const t = start + tone[1];
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.35, t + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.9);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 1.0);
    });
    return 1200;
  }

  function voiceFor(code) {
    if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") return null;
    const wanted = String(code || "").toLowerCase().replace("_", "-");
    const base = wanted.split("-")[0];
    const voices = speechSynthesis.getVoices() || [];
    return voices.find(function (v) { return v.lang.toLowerCase().replace("_", "-") === wanted; })
      || voices.find(function (v) { return v.lang.toLowerCase().split(/[-_]/)[0] === base; })
      || null;
  }
  if ("speechSynthesis" in window) speechSynthesis.getVoices();  // starts loading the voices

  /* "A042" is read as a letter and digits: "A 0 4 2". */
  function spell(number) { return String(number).split("").join(" "); }

  function flash(row) {
    if (!row) return;
    row.classList.remove("flash");
    void row.offsetWidth;  // restart the animation
    row.classList.add("flash");
  }

  function announce(call, row) {
    const wait = chime();
    const voice = voiceFor(lang);
    flash(row);
    if (!voice) return false;
    const text = Hall.fmt(speech, { number: spell(call.number), counter: call.counter });
    setTimeout(function () {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.rate = 0.9;
      speechSynthesis.speak(utterance);
    }, wait);
    return true;
  }

  /* ---------------------------------------------------------------- messages */
  function onMessage(message) {
    if (!message) return;
    if (message.type === "call") {
      /* a call arrives at once with the last calls; queue figures follow in an update */
      renderCalls(message.calls || []);
    } else if (message.snapshot) {
      renderCalls(message.snapshot.calls || []);
      renderGroups(message.snapshot.groups || []);
    } else {
      return;
    }
    const call = message.call && (!zone || message.call.zone === zone || inZone(message.call.counter))
      ? message.call : null;
    if (!call) return;
    const row = callsBody.querySelector('tr[data-id="' + call.id + '"]');
    const spoken = announce(call, row);
    window.__boardCalls.push({
      id: call.id, number: call.number, counter: call.counter, recalls: call.recalls,
      perf: performance.now(), wall: Date.now(), spoken: spoken,
    });
  }

  Hall.connect(root.dataset.ws, {
    onMessage: onMessage,
    onStatus: function (ok) { offline.hidden = ok; root.dataset.connected = ok ? "1" : "0"; },
  });

  function tick() {
    try {
      clock.textContent = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit",
        timeZone: root.dataset.tz || undefined }).format(new Date());
    } catch (err) { clock.textContent = new Date().toTimeString().slice(0, 5); }
  }
  tick();
  setInterval(tick, 1000);
  refreshSoundButton();
})();
