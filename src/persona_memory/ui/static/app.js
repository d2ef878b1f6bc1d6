// The memory browser: plain JavaScript over the persona-memory HTTP API, no framework, no build.
// Every value from the store is put into the page as text (textContent), never as HTML.
"use strict";

const TYPES = ["preference", "personal_fact", "interest_signal", "emotional_moment", "milestone", "general"];
const PAGE = 200;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = { persona: null, memories: [], hits: null, query: "", selected: new Set(), shown: PAGE };

// ---- talking to the API ----

function token() {
  return sessionStorage.getItem("pmem-token");
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    await askForToken();
    return api(path, options);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error ? body.error.message : response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function askForToken() {
  const dialog = $("login");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      sessionStorage.setItem("pmem-token", $("token").value.trim());
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

function personaPath(suffix = "") {
  return "/v1/personas/" + encodeURIComponent(state.persona) + suffix;
}

// ---- small helpers ----

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function age(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const units = [["y", 31536000], ["mo", 2592000], ["d", 86400], ["h", 3600], ["m", 60]];
  for (const [unit, size] of units) if (seconds >= size) return Math.floor(seconds / size) + unit;
  return "now";
}

function localDay(value, plusDays = 0) {
  // a date input's value (YYYY-MM-DD) as the local midnight it names, shifted by whole days
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays);
}

function filters() {
  return {
    tag: $("filter-tag").value,
    type: $("filter-type").value,
    since: $("filter-since").value ? localDay($("filter-since").value) : null,
    until: $("filter-until").value ? localDay($("filter-until").value, 1) : null, // "To" includes that day
  };
}

// ---- loading ----

async function loadPersonas() {
  const { personas } = await api("/v1/personas");
  const wanted = new URLSearchParams(location.search).get("persona");
  const select = $("persona");
  select.replaceChildren(...personas.map((slug) => el("option", { value: slug, textContent: slug })));
  if (!personas.length) {
    say("Nothing stored yet: no persona has memories in this store.");
    return;
  }
  select.value = personas.includes(wanted) ? wanted : personas[0];
  await loadPersona(select.value);
}

async function loadPersona(slug) {
  state.persona = slug;
  state.hits = null;
  state.query = "";
  state.selected.clear();
  state.shown = PAGE;
  $("query").value = "";
  history.replaceState(null, "", "?persona=" + encodeURIComponent(slug));
  await refresh();
}

async function refresh() {
  say("Loading…");
  const [exported, stats, evolution] = await Promise.all([
    api(personaPath("/export")), api(personaPath("/stats")), api(personaPath("/evolution")),
  ]);
  state.memories = exported.memories.filter((m) => !m.superseded_by);
  for (const id of [...state.selected]) {
    if (!state.memories.some((m) => m.id === id)) state.selected.delete(id);
  }
  fillTagFilter();
  if (state.query) await runSearch();
  render();
  renderStats(stats);
  renderEvolution(evolution);
  say(plural(state.memories.length, "memory", "memories") + " remembered by " + state.persona);
}

async function runSearch() {
  const f = filters();
  const params = new URLSearchParams({ query: state.query, limit: "100" });
  if (f.tag) params.set("tags", f.tag);
  if (f.type) params.set("type", f.type);
  if (f.since) params.set("since", f.since.toISOString());
  if (f.until) params.set("until", f.until.toISOString());
  state.hits = (await api(personaPath("/search?" + params))).hits;
}

// ---- the list ----

function visible() {
  if (state.hits) return state.hits; // the server applied the filters and ranked them
  const f = filters();
  return state.memories
    .filter((m) => !f.tag || m.tags.includes(f.tag))
    .filter((m) => !f.type || m.type === f.type)
    .filter((m) => !f.since || Date.parse(m.created_at) >= f.since.getTime())
    .filter((m) => !f.until || Date.parse(m.created_at) < f.until.getTime())
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

function fillTagFilter() {
  const select = $("filter-tag");
  const current = select.value;
  const tags = [...new Set(state.memories.flatMap((m) => m.tags))].sort();
  select.replaceChildren(el("option", { value: "", textContent: "any" }),
    ...tags.map((tag) => el("option", { value: tag, textContent: tag })));
  select.value = tags.includes(current) ? current : "";
}

function render() {
  const rows = visible();
  const searching = state.hits !== null;
  for (const cell of document.querySelectorAll(".score-col")) cell.hidden = !searching;
  $("clear-search").hidden = !searching;
  $("count").textContent = searching
    ? `${plural(rows.length, "result", "results")} for “${state.query}”`
    : `${plural(rows.length, "memory", "memories")} shown`;
  $("empty").hidden = rows.length > 0;
  $("empty").textContent = searching ? "Nothing found." : "No memories.";
  $("show-more").hidden = rows.length <= state.shown;
  $("memory-table").querySelector("tbody").replaceChildren(...rows.slice(0, state.shown).map(row));
  updateSelection();
}

function row(memory) {
  const box = el("input", { type: "checkbox", checked: state.selected.has(memory.id) });
  box.setAttribute("aria-label", "Select " + memory.id);
  box.addEventListener("change", () => {
    if (box.checked) state.selected.add(memory.id);
    else state.selected.delete(memory.id);
    updateSelection();
  });
  const forget = el("button", { type: "button", className: "link", textContent: "Forget" });
  forget.addEventListener("click", () => confirmForget([memory.id]));
  const tr = el("tr", {},
    el("td", {}, box),
    el("td", { className: "content", textContent: memory.content }),
    el("td", { className: "type", textContent: memory.type.replace("_", " ") }),
    el("td", {}, ...memory.tags.map((tag) => el("span", { className: "tag", textContent: tag }))),
    el("td", { className: "num", textContent: memory.importance.toFixed(2) }),
    el("td", { className: "num", textContent: age(memory.created_at), title: memory.created_at }),
    el("td", { className: "num score-col", hidden: state.hits === null,
               textContent: memory.score === undefined ? "" : memory.score.toFixed(3) }),
    el("td", {}, forget),
  );
  tr.dataset.id = memory.id;
  tr.classList.toggle("selected", state.selected.has(memory.id));
  return tr;
}

function updateSelection() {
  const n = state.selected.size;
  $("forget-selected").disabled = n === 0;
  $("forget-selected").textContent = n ? `Forget selected (${n})` : "Forget selected";
  for (const tr of document.querySelectorAll("#memory-table tbody tr")) {
    tr.classList.toggle("selected", state.selected.has(tr.dataset.id));
  }
  const shown = visible().slice(0, state.shown);
  $("select-all").checked = shown.length > 0 && shown.every((m) => state.selected.has(m.id));
}

// ---- forgetting ----

function confirmForget(ids) {
  const byId = new Map([...state.memories, ...(state.hits || [])].map((m) => [m.id, m]));
  $("confirm-title").textContent = `Forget ${plural(ids.length, "memory", "memories")}?`;
  $("confirm-list").replaceChildren(...ids.map((id) => el("li", { textContent: byId.get(id)?.content ?? id })));
  const dialog = $("confirm");
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "forget") forget(ids).catch(fail);
  }, { once: true });
  dialog.showModal();
}

async function forget(ids) {
  let done = 0;
  for (const id of ids) {
    try {
      await api(personaPath("/memories/" + encodeURIComponent(id)), { method: "DELETE" });
      done += 1;
    } catch (error) {
      if (error.status !== 404) throw error; // already gone is what we wanted
    }
    state.selected.delete(id);
  }
  await refresh();
  say(`Forgot ${plural(done, "memory", "memories")}.`);
}

// ---- stats and evolution ----

function renderStats(stats) {
  const totals = [
    ["Memories", stats.total],
    ["Superseded versions", stats.superseded],
    ["Average importance", stats.avg_importance ?? "–"],
    ["Oldest", stats.oldest ? stats.oldest.slice(0, 10) : "–"],
    ["Newest", stats.newest ? stats.newest.slice(0, 10) : "–"],
  ];
  $("totals").replaceChildren(...totals.flatMap(([name, value]) =>
    [el("dt", { textContent: name }), el("dd", { textContent: String(value) })]));
  $("top-tags").replaceChildren(...(stats.top_tags.length
    ? stats.top_tags.map((t) => el("li", { textContent: `${t.tag} (${t.count})` }))
    : [el("li", { textContent: "none yet" })]));
  const types = Object.entries(stats.by_type).sort((a, b) => b[1] - a[1]);
  const most = Math.max(1, ...types.map(([, n]) => n));
  $("by-type").replaceChildren(...types.map(([type, n]) => {
    const fill = el("div", { className: "fill" });
    fill.style.width = (100 * n / most) + "%";
    return el("div", { className: "bar" }, el("span", { textContent: type.replace("_", " ") }),
      el("div", {}, fill), el("span", { className: "n", textContent: String(n) }));
  }));
  renderTimeline(state.memories);
}

function renderTimeline(memories) {
  const box = $("timeline");
  if (!memories.length) {
    box.replaceChildren(el("p", { textContent: "none yet" }));
    return;
  }
  const times = memories.map((m) => new Date(m.created_at));
  const first = new Date(Math.min(...times));
  const last = new Date(Math.max(...times));
  const byMonth = (last - first) / 86400000 > 62;
  const key = (d) => byMonth ? d.toISOString().slice(0, 7) : d.toISOString().slice(0, 10);
  const buckets = [];
  for (let d = new Date(first); key(d) <= key(last) && buckets.length < 400;) {
    buckets.push(key(d));
    if (byMonth) d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    else d = new Date(d.getTime() + 86400000);
  }
  const counts = new Map(buckets.map((b) => [b, 0]));
  for (const t of times) counts.set(key(t), (counts.get(key(t)) || 0) + 1);
  const most = Math.max(...counts.values());
  const width = 300, height = 90, plot = 72, step = width / buckets.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Memories per ${byMonth ? "month" : "day"}`);
  buckets.forEach((bucket, i) => {
    const n = counts.get(bucket);
    const h = n ? Math.max(2, plot * n / most) : 0;
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", i * step + step * 0.1);
    rect.setAttribute("y", plot - h);
    rect.setAttribute("width", Math.max(1, step * 0.8));
    rect.setAttribute("height", h);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${bucket}: ${plural(n, "memory", "memories")}`;
    rect.append(title);
    svg.append(rect);
  });
  for (const [text, x, anchor] of [[buckets[0], 0, "start"], [buckets[buckets.length - 1], width, "end"]]) {
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", x);
    label.setAttribute("y", height - 4);
    label.setAttribute("text-anchor", anchor);
    label.textContent = text;
    svg.append(label);
  }
  box.replaceChildren(svg);
}

function renderEvolution(evolution) {
  $("state").textContent = evolution.state_error
    || (evolution.state === null ? "none yet" : JSON.stringify(evolution.state, null, 2));
  $("state").classList.toggle("error", Boolean(evolution.state_error));
  $("no-events").hidden = evolution.events.length > 0;
  $("events").replaceChildren(...evolution.events.map((event) => {
    const { type, event: kind, at, timestamp, created_at: created, ...rest } = event;
    const when = String(at || timestamp || created || "").slice(0, 16).replace("T", " ");
    const detail = Object.keys(rest).length ? " " + JSON.stringify(rest) : "";
    return el("li", {}, el("strong", { textContent: type || kind || "event" }),
      el("span", { className: "when", textContent: when ? " " + when : "" }), detail);
  }));
}

// ---- wiring ----

function fail(error) {
  say(error.message || String(error), true);
}

function on(id, event, handler) {
  $(id).addEventListener(event, (e) => Promise.resolve(handler(e)).catch(fail));
}

async function refilter() {
  state.shown = PAGE;
  if (state.query) await runSearch();
  render();
}

function start() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) { // pmem ui passes the token in the fragment, which is never sent to a server
    sessionStorage.setItem("pmem-token", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  $("filter-type").append(...TYPES.map((t) => el("option", { value: t, textContent: t.replace("_", " ") })));
  on("persona", "change", () => loadPersona($("persona").value));
  on("search-form", "submit", async (e) => {
    e.preventDefault();
    state.query = $("query").value.trim();
    state.hits = null;
    if (state.query) await runSearch();
    render();
  });
  on("clear-search", "click", () => {
    state.query = "";
    state.hits = null;
    $("query").value = "";
    render();
  });
  for (const id of ["filter-tag", "filter-type", "filter-since", "filter-until"]) on(id, "change", refilter);
  on("clear-filters", "click", () => {
    for (const id of ["filter-tag", "filter-type", "filter-since", "filter-until"]) $(id).value = "";
    return refilter();
  });
  on("select-all", "change", () => {
    for (const m of visible().slice(0, state.shown)) {
      if ($("select-all").checked) state.selected.add(m.id);
      else state.selected.delete(m.id);
    }
    render();
  });
  on("forget-selected", "click", () => confirmForget([...state.selected]));
  on("show-more", "click", () => {
    state.shown += PAGE;
    render();
  });
  loadPersonas().catch(fail);
}

start();
