"use strict";
// The page's small progressive enhancement, shared by every back-office
// page. Without it every page still works: forms post and the server
// answers with the whole page.
//
// - `data-live="/path"` (+ `data-every="ms"`, default 2000): the element's
//   content is replaced, every so often, by the HTML fragment the path
//   answers. The server renders fragments with the same escaping templates
//   as the pages, so nothing from the shop is interpreted here.
// - `data-confirm="question"` on a form: asks before it posts.
// - `possync.post(path, body)`: a JSON request with the session's CSRF token.
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const offline = (down) => { const o = document.getElementById("offline"); if (o) o.style.display = down ? "block" : "none"; };

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body === undefined ? {} : body),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  function live(el) {
    const path = el.getAttribute("data-live");
    const every = Math.max(500, parseInt(el.getAttribute("data-every") || "2000", 10) || 2000);
    const tick = async () => {
      try {
        const res = await fetch(path, { cache: "no-store", credentials: "same-origin", headers: { Accept: "text/html" } });
        if (res.status === 401) { window.location.assign("/"); return; }
        if (res.ok) { el.innerHTML = await res.text(); offline(false); }
      } catch (_) {
        offline(true);
      }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }

  document.addEventListener("submit", (ev) => {
    const q = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) ev.preventDefault();
  });
  document.querySelectorAll("[data-live]").forEach(live);
  window.possync = { post, csrf };
})();
