"use strict";
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; };
const LABELS = { settings: "Settings", countries: "Countries", tax_classes: "Tax classes", tax_rates: "Tax rates",
  shipping_zones: "Shipping zones", payment_gateways: "Payment gateways", categories: "Categories", tags: "Tags",
  attributes: "Attributes", products: "Products", variations: "Variations", customers: "Customers", orders: "Orders", refunds: "Refunds" };

function ago(ms, now) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return new Date(ms).toLocaleString();
}

// Rows per second since the resource started, and the time left at that
// rate (when the shop gave a total).
function paceOf(pr, now) {
  if (!pr.started_at || !pr.items_done) return "";
  const secs = Math.max(0.001, (now - pr.started_at) / 1000);
  const rate = pr.items_done / secs;
  let text = Math.round(rate).toLocaleString() + " rows/s";
  if (pr.items_total && pr.items_total > pr.items_done && rate > 0) {
    const left = Math.ceil((pr.items_total - pr.items_done) / rate);
    text += " · " + (left < 60 ? left + " s" : Math.ceil(left / 60) + " min") + " left";
  }
  return text;
}

function renderResources(data) {
  const body = $("resources");
  const rows = [];
  const states = new Map(data.replica.resources.map((r) => [r.resource, r]));
  const progress = new Map((data.pull.resources || []).map((r) => [r.resource, r]));
  const fresh = new Map((data.replica.freshness || []).map((r) => [r.resource, r]));
  for (const name of Object.keys(LABELS)) {
    const st = states.get(name) || {};
    const fr = fresh.get(name) || {};
    const pr = progress.get(name);
    const tr = el("tr");
    tr.appendChild(el("td", LABELS[name]));
    const count = data.replica.counts[name];
    tr.appendChild(el("td", count === undefined ? "—" : count.toLocaleString(), "num"));
    // The last sweep's count is fresher than the full pull's.
    const upstream = fr.upstream_count ?? st.upstream_total;
    tr.appendChild(el("td", upstream === null || upstream === undefined ? "—" : upstream.toLocaleString(), "num"));
    tr.appendChild(el("td", fr.complete_pct === null || fr.complete_pct === undefined ? "—" : fr.complete_pct.toFixed(1) + " %", "num"));
    const cell = el("td");
    if (pr) {
      const badge = el("span", pr.state, "badge " + pr.state);
      cell.appendChild(badge);
      if (pr.state === "running") {
        const total = pr.items_total || 0;
        const pct = total > 0 ? Math.min(100, Math.round((100 * pr.items_done) / total)) : 0;
        const bar = el("div", null, "bar"); const fill = el("span"); fill.style.width = pct + "%"; bar.appendChild(fill);
        cell.appendChild(bar);
        cell.appendChild(el("div", pr.items_done.toLocaleString() + (total ? " of " + total.toLocaleString() : "") + " · page " + pr.pages_done + (pr.pages_total ? "/" + pr.pages_total : ""), "note"));
        const pace = paceOf(pr, data.agent.now);
        if (pace) cell.appendChild(el("div", pace, "note pace"));
      }
    } else {
      cell.textContent = "—";
    }
    tr.appendChild(cell);
    tr.appendChild(el("td", ago(st.last_full_pull_at, data.agent.now)));
    tr.appendChild(el("td", ago(fr.verified_at ?? fr.last_poll_at, data.agent.now)));
    const note = el("td");
    if (st.last_error) note.appendChild(el("div", st.last_error, "note error"));
    else if (pr && pr.message) note.appendChild(el("div", pr.message, "note warn"));
    else if (st.last_warning) note.appendChild(el("div", st.last_warning, "note warn"));
    tr.appendChild(note);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function renderSettings(info) {
  const dl = $("settings");
  if (!info) return;
  const pairs = [["Currency", info.currency], ["Prices include tax", info.prices_include_tax ? "yes" : "no"],
    ["Decimals", info.price_decimals], ["Taxes", info.calc_taxes ? "on" : "off"],
    ["Stock management", info.manage_stock ? "on" : "off"], ["Base location", info.base_location]];
  const nodes = [];
  for (const [k, v] of pairs) { nodes.push(el("dt", k)); nodes.push(el("dd", v)); }
  dl.replaceChildren(...nodes);
}

function renderEvents(events, now) {
  const items = events.map((e) => {
    const li = el("li");
    li.appendChild(el("span", ago(e.at, now), "when"));
    li.appendChild(el("span", e.message, e.level));
    return li;
  });
  if (items.length === 0) items.push(el("li", "nothing yet", "muted"));
  $("events").replaceChildren(...items);
}

function span(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  if (h > 0) return h + " h " + m + " min";
  if (m > 0) return m + " min";
  return s + " s";
}

// The shop's reachability, from what the agent's own requests saw.
function renderShop(shop, now) {
  const badge = $("shop-reach");
  const note = $("shop-reach-note");
  if (shop.reachable === null || shop.reachable === undefined) {
    badge.textContent = "shop: not asked yet"; badge.className = "badge idle"; note.textContent = ""; return;
  }
  if (shop.reachable) {
    badge.textContent = "shop reachable"; badge.className = "badge completed";
    note.textContent = "last answer " + ago(shop.last_ok_at, now);
  } else {
    badge.textContent = "shop unreachable"; badge.className = "badge failed";
    note.textContent = "since " + new Date(shop.unreachable_since).toLocaleString() + " (" + ago(shop.unreachable_since, now) + ")" + (shop.last_failure ? " · " + shop.last_failure : "");
  }
}

// The oldest unconfirmed sale's age, counted down to till.offline_limit_hours;
// the state (ok, amber, red) is the server's.
function renderOffline(off, outbox) {
  const badge = $("offline-countdown");
  const note = $("offline-note");
  $("offline-sale").className = "offline " + off.state;
  if (off.state === "none") {
    badge.textContent = "none waiting"; badge.className = "badge completed";
    note.textContent = "every sale is confirmed by the shop (limit " + off.limit_hours + " h)";
  } else {
    const left = off.remaining_ms >= 0 ? span(off.remaining_ms) + " left" : "over by " + span(off.remaining_ms);
    badge.textContent = off.state === "red" ? "over the limit" : (off.state === "amber" ? "past half the limit" : "within the limit");
    badge.className = "badge countdown-" + off.state;
    note.textContent = "oldest unconfirmed: " + off.label + ", " + span(off.age_ms) + " old · " + left + " of " + off.limit_hours + " h";
  }
  const nodes = [];
  for (const [state, n] of Object.entries(outbox)) { nodes.push(el("dt", state)); nodes.push(el("dd", n, "num")); }
  $("outbox-depth").replaceChildren(...nodes);
}

function renderWebhooks(data, now) {
  const w = data.webhooks;
  $("webhook-summary").textContent = "last delivery " + ago(w.last_delivery_at, now) + " · " + w.received + " received, " + w.applied + " applied, " + w.failed + " failed, " + w.waiting + " waiting";
  const rows = data.subscriptions.map((s) => {
    const tr = el("tr");
    tr.appendChild(el("td", s.id, "num"));
    tr.appendChild(el("td", s.topic));
    tr.appendChild(el("td", s.status));
    tr.appendChild(el("td", s.delivery_url));
    return tr;
  });
  if (rows.length === 0) { const tr = el("tr"); const td = el("td", "no subscriptions: install them on the Operations page", "muted"); td.colSpan = 4; tr.appendChild(td); rows.push(tr); }
  $("subscriptions").replaceChildren(...rows);
  $("webhook-failures").replaceChildren(...w.recent_failures.map((f) => {
    const li = el("li"); li.appendChild(el("span", ago(f.received_at, now), "when"));
    li.appendChild(el("span", f.topic + ": " + (f.error || "failed"), "error")); return li;
  }));
}

function renderErrors(errors, now) {
  const items = errors.map((e) => {
    const li = el("li");
    li.appendChild(el("span", ago(e.at, now), "when"));
    li.appendChild(el("span", e.message, e.level));
    li.appendChild(el("div", "What to do: " + e.advice, "note advice"));
    return li;
  });
  if (items.length === 0) items.push(el("li", "none", "muted"));
  $("errors").replaceChildren(...items);
}

async function refresh() {
  try {
    const res = await fetch("/api/sync/status", { cache: "no-store", credentials: "same-origin" });
    // The session ended (idle, logout elsewhere, restart): back to the login form.
    if (res.status === 401) { window.location.reload(); return; }
    if (!res.ok) throw new Error("HTTP " + res.status);
    const data = await res.json();
    $("offline").style.display = "none";
    $("shop").textContent = data.config.store_url ? data.config.store_url : "no store configured";
    const state = data.pull.state;
    const badge = $("pull-state");
    badge.textContent = state === "running" ? "pulling" : state;
    badge.className = "badge " + state;
    $("pull-time").textContent = data.pull.finished_at ? "last pull " + ago(data.pull.finished_at, data.agent.now) : (data.pull.started_at ? "started " + ago(data.pull.started_at, data.agent.now) : "");
    if (data.pull.error) $("pull-time").textContent += " · " + data.pull.error;
    renderResources(data);
    renderSettings(data.replica.store);
    renderEvents(data.events, data.agent.now);
    renderShop(data.shop, data.agent.now);
    renderOffline(data.offline, data.outbox);
    renderWebhooks(data, data.agent.now);
    renderErrors(data.errors, data.agent.now);
    $("agent").textContent = "possync " + data.agent.version + " · up since " + new Date(data.agent.started_at).toLocaleString() + " · data in " + data.config.data_dir;
  } catch (e) {
    $("offline").style.display = "block";
  }
}

refresh();
setInterval(refresh, 1000);
