// The inbox's only script (served from /static, so the Content-Security-Policy needs no inline script):
// open pages follow changes made elsewhere, and the labelling page takes keyboard shortcuts.
"use strict";

(function follow() {
  // A page with data-live polls its version URL; when the version moves, the page's <main> is fetched again and
  // swapped in, unless the agent is typing, in which case a note offers the reload instead.
  let timer = null;
  function live() { return document.querySelector("main[data-live]"); }

  async function tick() {
    const main = live();
    if (!main) return;
    try {
      const answer = await fetch(main.dataset.live, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (answer.status === 401) { window.location.reload(); return; }
      if (answer.ok) {
        const seen = (await answer.json()).version;
        if (seen !== main.dataset.version) await refresh(main, seen);
      }
    } catch (error) { /* the server is restarting or the network is away: try again at the next tick */ }
    schedule();
  }

  function typing() {
    const field = document.activeElement;
    return field && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type !== "hidden")) && field.value;
  }

  async function refresh(main, seen) {
    if (typing()) {
      if (!document.querySelector(".live-note")) {
        const note = document.createElement("a");
        note.className = "live-note"; note.href = window.location.href;
        note.textContent = "This page changed: reload";
        document.body.appendChild(note);
      }
      return;
    }
    const answer = await fetch(window.location.href, {credentials: "same-origin"});
    if (!answer.ok) return;
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").querySelector("main");
    if (!fresh) return;
    fresh.dataset.version = fresh.dataset.version || seen;
    main.replaceWith(fresh);
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  }

  function schedule() {
    const main = live();
    if (!main) return;
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(1, Number(main.dataset.every) || 3) * 1000);
  }

  document.addEventListener("DOMContentLoaded", schedule);
})();

(function shortcuts() {
  // On /labels: j/k move between posts, c / n / s answer the focused post (the first one when none is).
  function picks() { return Array.from(document.querySelectorAll("li.pick")); }
  function current() {
    const all = picks();
    return all.find((item) => item === document.activeElement || item.contains(document.activeElement)) || all[0];
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    const item = current();
    if (!item) return;
    const all = picks();
    const at = all.indexOf(item);
    if (event.key === "j" || event.key === "k") {
      const next = all[Math.min(all.length - 1, Math.max(0, at + (event.key === "j" ? 1 : -1)))];
      next.focus();
      event.preventDefault();
      return;
    }
    const button = item.querySelector(`button[data-key="${event.key}"]`);
    if (button) { button.click(); event.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", () => { const first = picks()[0]; if (first) first.focus(); });
})();
