// The review console: queues, the list, the case view and its decisions, over the review API.
import { Api, ApiError } from "./api.js";
import { claimsOf, finishHostedSignIn, forgetToken, hostedSignOutUrl, keepToken, startHostedSignIn, storedToken }
  from "./auth.js";
import { renderCase } from "./caseview.js";
import { announce, clear, dueClock, h } from "./dom.js";
import { pickLanguage, refusalText, setLanguage, t } from "./i18n.js";
import { nearDuplicates } from "./similar.js";

const POLL_MS = 4000;
const QUEUES = ["CrisisQueue", "ComplaintQueue", "SpamQueue"];
const LABELS = ["crisis", "complaint", "spam", "normal"];
const STATUSES = ["open", "claimed", "acknowledged", "resolved", "dismissed", "closed"];
const PLATFORMS = ["facebook", "instagram", "messenger", "x", "linkedin", "tiktok", "youtube"];
const LANGUAGE_KEY = "moderato.language";

const state = {
  config: { auth: null, claim_lease_minutes: 30 },
  api: null,
  me: null,
  view: "all",
  filters: {},
  items: [],
  cursor: null,
  seen: null, // case ids already shown: anything else arriving by polling is marked new
  fresh: new Set(),
  counts: {},
  selectedId: null,
  detail: null,
  checked: new Set(),
  editing: false, // a decision form is open: polling must not redraw the case under the reviewer's hands
  timer: null,
};

const $ = (id) => document.getElementById(id);

// Polling redraws the queues and the list: only when something changed, and without taking the
// keyboard focus away from the control the reviewer is on.
const drawn = new Map();

function redraw(container, signature, draw) {
  if (drawn.get(container.id) === signature && container.childElementCount) return;
  drawn.set(container.id, signature);
  const active = document.activeElement;
  const key = active && container.contains(active) ? focusKey(active) : null;
  draw();
  if (key) container.querySelector(key)?.focus();
}

function focusKey(element) {
  const owner = element.closest("[data-case-id], [data-view]");
  if (!owner) return element.id ? `#${CSS.escape(element.id)}` : null;
  const attribute = owner.dataset.caseId !== undefined ? `[data-case-id="${CSS.escape(owner.dataset.caseId)}"]`
    : `[data-view="${CSS.escape(owner.dataset.view)}"]`;
  const part = element.classList.contains("pick") ? " .pick" : element.classList.contains("open") ? " .open" : "";
  return `${attribute}${part}`;
}

// ---------------------------------------------------------------- start, sign in, sign out

async function boot() {
  setLanguage(pickLanguage(localStorage.getItem(LANGUAGE_KEY), navigator.languages));
  $("lang").value = document.documentElement.lang;
  $("lang").addEventListener("change", (event) => {
    localStorage.setItem(LANGUAGE_KEY, event.target.value);
    setLanguage(event.target.value);
    renderAll();
  });
  $("signout").addEventListener("click", signOut);
  document.addEventListener("keydown", onKey);
  try {
    const response = await fetch("console/config.json", { cache: "no-store" });
    if (response.ok) state.config = await response.json();
  } catch { /* the defaults: local sign-in with a pasted token */ }
  const fromHostedUi = await finishHostedSignIn(state.config.auth).catch(() => null);
  if (fromHostedUi) keepToken(fromHostedUi);
  const token = storedToken();
  if (token) await enter(token);
  else showSignIn();
}

function renderChrome() {
  document.title = t("app.title");
  $("title").textContent = t("app.title");
  $("lang-label").textContent = t("language");
  $("signout").textContent = t("signout");
  $("skip").textContent = t("list.title");
  $("who").textContent = state.me ? t("signed_in_as", { user: state.me.user, groups: state.me.groups.join(", ") }) : "";
}

function showSignIn(error) {
  stopPolling();
  state.me = null;
  $("app").hidden = true;
  $("signout").hidden = true;
  renderChrome();
  const panel = $("signin");
  panel.hidden = false;
  const hosted = state.config.auth
    ? h("p", {}, h("button", { type: "button", className: "primary", onclick: () => startHostedSignIn(state.config.auth) },
      t("signin.hosted")))
    : null;
  const form = h("form", { id: "signin-form", onsubmit: async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (token) await enter(token);
  } },
  h("label", { for: "token" }, t("signin.local")),
  h("textarea", { id: "token", name: "token", rows: 4, required: true, autocomplete: "off", spellcheck: "false" }),
  h("button", { type: "submit", className: "primary" }, t("signin.submit")));
  clear(panel, h("h2", { id: "signin-title" }, t("signin.title")),
    error ? h("p", { className: "error", role: "alert", id: "signin-error" }, error) : null, hosted, form);
  (hosted ? panel.querySelector("button") : $("token")).focus();
}

async function enter(token) {
  const claims = claimsOf(token);
  if (!claims) {
    forgetToken();
    showSignIn(t("signin.invalid"));
    return;
  }
  const api = new Api(token);
  try {
    await api.list({ limit: 1 });
  } catch (error) {
    forgetToken();
    showSignIn(error instanceof ApiError && error.status === 403 ? t("signin.nogroup")
      : error instanceof ApiError ? t("signin.invalid") : t("error.network"));
    return;
  }
  keepToken(token);
  state.api = api;
  state.me = { ...claims, approver: claims.groups.includes("approvers") };
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  renderAll();
  await refresh({ reset: true });
  startPolling();
}

function signOut() {
  forgetToken();
  state.api = null;
  state.detail = null;
  state.selectedId = null;
  if (state.config.auth) {
    location.assign(hostedSignOutUrl(state.config.auth));
    return;
  }
  showSignIn();
}

// ---------------------------------------------------------------- polling

function startPolling() {
  stopPolling();
  state.timer = setInterval(() => refresh({ poll: true }).catch(() => {}), POLL_MS);
}

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

async function guarded(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetToken();
      showSignIn(t("error.session"));
      return undefined;
    }
    throw error;
  }
}

async function refresh({ reset = false, poll = false } = {}) {
  if (!state.api) return;
  await guarded(async () => {
    await Promise.all([refreshCounts(), refreshList(reset, poll)]);
    if (state.selectedId && !state.editing) await loadCase(state.selectedId, { quiet: true });
  });
}

async function refreshCounts() {
  const views = [...QUEUES.map((queue) => [queue, { queue, limit: 100 }]), ["mine", { claimed: "me", limit: 100 }]];
  if (state.me.approver) views.push(["awaiting", { proposals: "awaiting_me", limit: 100 }]);
  const answers = await Promise.all(views.map(([, params]) => state.api.list(params).catch(() => null)));
  views.forEach(([name], index) => {
    const answer = answers[index];
    if (!answer) return;
    const due = answer.items.map((item) => item.sla_due_at).filter(Boolean).sort()[0] || null;
    state.counts[name] = { count: answer.items.length, more: Boolean(answer.next_cursor), due };
  });
  renderQueues();
}

function listParams() {
  const params = { ...state.filters, limit: 50 };
  if (QUEUES.includes(state.view)) params.queue = state.view;
  if (state.view === "mine") params.claimed = "me";
  if (state.view === "awaiting") params.proposals = "awaiting_me";
  return params;
}

async function refreshList(reset, poll) {
  const answer = await state.api.list(listParams());
  if (reset || !state.seen) {
    state.seen = new Set(answer.items.map((item) => item.case_id));
    state.fresh = new Set();
  } else if (poll) {
    for (const item of answer.items) {
      if (!state.seen.has(item.case_id)) state.fresh.add(item.case_id);
      state.seen.add(item.case_id);
    }
  }
  state.items = answer.items;
  state.cursor = answer.next_cursor || null;
  const shown = new Set(state.items.map((item) => item.case_id));
  for (const id of [...state.checked]) if (!shown.has(id)) state.checked.delete(id);
  renderList();
}

async function loadMore() {
  if (!state.cursor) return;
  const answer = await guarded(() => state.api.list({ ...listParams(), cursor: state.cursor }));
  if (!answer) return;
  state.items = [...state.items, ...answer.items];
  for (const item of answer.items) state.seen.add(item.case_id);
  state.cursor = answer.next_cursor || null;
  renderList();
}

// ---------------------------------------------------------------- rendering: queues, filters, list

function renderAll() {
  renderChrome();
  if (!state.me) {
    showSignIn();
    return;
  }
  renderQueues();
  renderListPane();
  renderCasePane();
}

function queueButton(name, label) {
  const info = state.counts[name];
  const count = info ? `${info.count}${info.more ? "+" : ""}` : "…";
  return h("li", {},
    h("button", { type: "button", className: "queue", "aria-current": state.view === name ? "true" : null,
      dataset: { view: name }, onclick: () => switchView(name) },
    h("span", { className: `queue-name ${name}` }, label),
    h("span", { className: "queue-count" }, count),
    name !== "awaiting" && name !== "mine"
      ? h("span", { className: "queue-due" }, info && info.due ? dueClock(info.due) : t("queue.none_due"))
      : null));
}

function renderQueues() {
  if (!state.me) return;
  const signature = JSON.stringify([state.counts, state.view, document.documentElement.lang]);
  redraw($("queues"), signature, drawQueues);
}

function drawQueues() {
  const items = [...QUEUES.map((queue) => queueButton(queue, t(`queue.${queue}`))),
    queueButton("mine", t("queue.mine")),
    state.me.approver ? queueButton("awaiting", t("queue.awaiting")) : null,
    h("li", {}, h("button", { type: "button", className: "queue", "aria-current": state.view === "all" ? "true" : null,
      dataset: { view: "all" }, onclick: () => switchView("all") }, h("span", { className: "queue-name" }, t("queue.all"))))];
  clear($("queues"), h("h2", { className: "visually-hidden", id: "queues-heading" }, t("nav.label")),
    h("ul", { "aria-labelledby": "queues-heading" }, items));
  $("queues").setAttribute("aria-label", t("nav.label"));
}

async function switchView(view) {
  state.view = view;
  state.checked.clear();
  renderQueues();
  await guarded(() => refreshList(true, false));
  $("list-heading").focus();
}

function select(name, options, value, labelKey) {
  return h("label", { className: "field" }, h("span", {}, t(labelKey)),
    h("select", { name },
      h("option", { value: "" }, t("filters.any")),
      options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text))));
}

function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function renderFilters() {
  const f = state.filters;
  return h("form", { id: "filters", className: "filters", role: "search", "aria-label": t("filters.label"),
    onsubmit: (event) => { event.preventDefault(); applyFilters(new FormData(event.target)); } },
  h("label", { className: "field search" }, h("span", {}, t("filters.search")),
    h("input", { type: "search", name: "q", id: "search", value: f.q || "", autocomplete: "off" })),
  h("details", { className: "more-filters", open: Object.keys(f).some((k) => k !== "q") || null },
    h("summary", {}, t("filters.label")),
    h("div", { className: "filter-grid" },
      select("label", LABELS.map((l) => [l, t(`label.${l}`)]), f.label, "filters.label_field"),
      select("status", STATUSES.map((s) => [s, t(`status.${s}`)]), f.status, "filters.status"),
      select("platform", PLATFORMS.map((p) => [p, p]), f.platform, "filters.platform"),
      h("label", { className: "field" }, h("span", {}, t("filters.brand")),
        h("input", { type: "text", name: "brand", value: f.brand || "" })),
      h("label", { className: "field" }, h("span", {}, t("filters.author")),
        h("input", { type: "text", name: "author", value: f.author || "" })),
      h("label", { className: "field" }, h("span", {}, t("filters.since")),
        h("input", { type: "datetime-local", name: "since", value: toLocalInput(f.since) })),
      h("label", { className: "field" }, h("span", {}, t("filters.until")),
        h("input", { type: "datetime-local", name: "until", value: toLocalInput(f.until) })))),
  h("div", { className: "filter-actions" },
    h("button", { type: "submit", className: "primary" }, t("filters.apply")),
    h("button", { type: "button", onclick: () => { state.filters = {}; renderListPane(); refreshList(true, false); } },
      t("filters.clear"))));
}

async function applyFilters(data) {
  const filters = {};
  for (const [name, value] of data.entries()) {
    const text = String(value).trim();
    if (!text) continue;
    // The reviewer types local times; the API wants an instant with its zone.
    filters[name] = name === "since" || name === "until" ? new Date(text).toISOString() : text;
  }
  state.filters = filters;
  await guarded(() => refreshList(true, false));
}

function renderListPane() {
  const pane = $("main");
  clear(pane, renderFilters(),
    h("div", { className: "list-head" },
      h("h2", { id: "list-heading", tabindex: "-1" }, t("list.title")),
      h("span", { id: "list-count", className: "muted" })),
    h("div", { id: "bulk", className: "bulk" }),
    h("ul", { id: "list", className: "cases", "aria-labelledby": "list-heading" }),
    h("button", { type: "button", id: "more", className: "more", hidden: true, onclick: loadMore }, t("list.more")));
  renderList();
}

function snippet(text) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > 140 ? `${flat.slice(0, 139)}…` : flat;
}

function authorName(author) {
  return author.name || (author.handle ? `@${author.handle}` : author.id || "?");
}

function row(item) {
  const current = item.case_id === state.selectedId;
  const checkbox = h("input", { type: "checkbox", className: "pick", checked: state.checked.has(item.case_id),
    "aria-label": t("list.select", { case: item.case_id }),
    onchange: (event) => { if (event.target.checked) state.checked.add(item.case_id); else state.checked.delete(item.case_id); renderBulk(); } });
  return h("li", { className: `case-row ${item.label}${current ? " current" : ""}`, dataset: { caseId: item.case_id } },
    checkbox,
    h("button", { type: "button", className: "open", "aria-current": current ? "true" : null,
      onclick: () => openCase(item.case_id) },
    h("span", { className: "row-top" },
      h("span", { className: `badge ${item.label}` }, t(`label.${item.label}`)),
      h("span", { className: "platform" }, item.platform),
      h("span", { className: "author" }, authorName(item.author)),
      state.fresh.has(item.case_id) ? h("span", { className: "badge new" }, t("list.new_badge")) : null,
      item.sla_due_at && ["open", "claimed", "acknowledged"].includes(item.status) ? dueClock(item.sla_due_at) : null),
    h("span", { className: "row-text" }, snippet(item.text)),
    h("span", { className: "row-meta" },
      h("span", { className: "status-text" }, t(`status.${item.status}`)),
      item.claimed_by ? h("span", { className: "claimed" }, t("list.claimed_by", { user: item.claimed_by })) : null,
      item.order_numbers && item.order_numbers.length ? h("span", { className: "orders" }, item.order_numbers.join(" ")) : null,
      item.visibility !== "visible" ? h("span", { className: "visibility" }, t(`visibility.${item.visibility}`)) : null)));
}

function renderList() {
  const list = $("list");
  if (!list) return;
  const signature = JSON.stringify([state.items, [...state.fresh], [...state.checked], state.selectedId,
    document.documentElement.lang, Math.floor(Date.now() / 60000)]);
  redraw(list, signature, drawList);
}

function drawList() {
  const list = $("list");
  clear(list, state.items.length ? state.items.map(row) : h("li", { className: "empty" }, t("list.empty")));
  const fresh = state.items.filter((item) => state.fresh.has(item.case_id)).length;
  $("list-count").textContent = `${t("list.count", { count: state.items.length })}${fresh ? ` · ${t("list.new", { count: fresh })}` : ""}`;
  $("more").hidden = !state.cursor;
  renderBulk();
}

// ---------------------------------------------------------------- bulk: a spam wave, one reason

function renderBulk() {
  const bar = $("bulk");
  if (!bar) return;
  const signature = JSON.stringify([state.checked.size, Boolean(state.selectedId), document.documentElement.lang]);
  redraw(bar, signature, () => drawBulk(bar));
}

function drawBulk(bar) {
  const count = state.checked.size;
  const canMatch = Boolean(state.selectedId || count);
  const reason = h("input", { type: "text", id: "bulk-reason", minlength: 10, maxlength: 2000,
    "aria-describedby": "bulk-hint", value: bar.querySelector("#bulk-reason")?.value || "" });
  clear(bar,
    h("span", { className: "muted", id: "bulk-count" }, t("bulk.selected", { count })),
    h("button", { type: "button", id: "bulk-similar", disabled: !canMatch, onclick: selectNearDuplicates }, t("bulk.similar")),
    count ? h("button", { type: "button", onclick: () => { state.checked.clear(); renderList(); } }, t("bulk.clear")) : null,
    count ? h("label", { className: "field inline", for: "bulk-reason" }, h("span", {}, t("bulk.reason"))) : null,
    count ? reason : null,
    count ? h("span", { id: "bulk-hint", className: "muted" }, t("decide.reason_hint")) : null,
    count ? h("button", { type: "button", id: "bulk-hide", className: "danger", onclick: bulkHide }, t("bulk.hide")) : null);
}

function selectNearDuplicates() {
  const anchorId = state.selectedId || [...state.checked][0];
  const anchor = state.items.find((item) => item.case_id === anchorId)
    || (state.detail && { case_id: state.detail.case.case_id, text: state.detail.case.post.text });
  if (!anchor) return;
  for (const item of nearDuplicates(anchor, state.items)) state.checked.add(item.case_id);
  renderList();
  $("bulk-reason")?.focus();
}

async function bulkHide() {
  const reason = $("bulk-reason").value.trim();
  if (reason.length < 10) {
    announce(t("decide.refused", { message: `${t("decide.reason")}: ${t("decide.reason_hint")}` }), "error");
    $("bulk-reason").focus();
    return;
  }
  const cases = state.items.filter((item) => state.checked.has(item.case_id))
    .map((item) => ({ case_id: item.case_id, expected_version: item.version }));
  try {
    const answer = await guarded(() => state.api.bulkHide(cases, reason));
    if (!answer) return;
    const refused = answer.results.filter((result) => !result.ok);
    const summary = t("bulk.done", { ok: answer.results.length - refused.length, failed: refused.length });
    announce([summary, ...refused.map((r) => `${r.case_id}: ${refusalText(r.code, r.message)}`)].join(" — "),
      refused.length ? "error" : "ok");
    state.checked.clear();
    await refresh();
  } catch (error) {
    announce(t("decide.refused", { message: refusalText(error.code, error.message) }), "error");
  }
}

// ---------------------------------------------------------------- the case

async function openCase(caseId, { focus = true } = {}) {
  state.selectedId = caseId;
  state.editing = false;
  state.fresh.delete(caseId);
  renderList();
  await guarded(() => loadCase(caseId));
  // Side by side, the list stays in view; on a narrow screen the case is below it: go there.
  const stacked = window.matchMedia("(max-width: 1100px)").matches;
  if (focus) $("case").focus({ preventScroll: !stacked });
  else if (stacked) $("case").scrollIntoView({ block: "start" });
}

async function loadCase(caseId, { quiet = false } = {}) {
  try {
    const detail = await state.api.detail(caseId);
    if (state.selectedId !== caseId) return;
    const changed = !state.detail || state.detail.case.case_id !== caseId || state.detail.case.version !== detail.case.version
      || JSON.stringify(state.detail.available) !== JSON.stringify(detail.available);
    state.detail = detail;
    if (changed || !quiet) renderCasePane();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    if (!quiet) announce(t("decide.refused", { message: refusalText(error.code, error.message) }), "error");
  }
}

function nextCaseId() {
  const index = state.items.findIndex((item) => item.case_id === state.selectedId);
  const rest = state.items.slice(index + 1).concat(state.items.slice(0, Math.max(index, 0)));
  return rest.find((item) => item.case_id !== state.selectedId)?.case_id || null;
}

function renderCasePane() {
  const pane = $("case");
  if (!state.detail || !state.selectedId) {
    clear(pane, h("p", { className: "muted placeholder" }, t("case.none")));
    return;
  }
  clear(pane, renderCase(state.detail, {
    me: state.me,
    api: () => state.api,
    onEditing: (editing) => { state.editing = editing; },
    run: runDecision,
  }));
}

// Every decision goes through here: the API call, its refusal in words, then the next case if asked.
async function runDecision(call, { what, next = false }) {
  const target = next ? nextCaseId() : null;
  try {
    const done = await guarded(call);
    if (done === undefined) return false;
    announce(t("decide.done", { what }), "ok");
    state.editing = false;
    await refresh();
    if (target) await openCase(target);
    else if (state.selectedId) await loadCase(state.selectedId);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === "stale_version") {
      state.editing = false;
      await loadCase(state.selectedId);
      announce(t("decide.stale"), "error");
      return false;
    }
    const message = error instanceof ApiError ? refusalText(error.code, error.message) : t("error.network");
    announce(t("decide.refused", { message }), "error");
    return false;
  }
}

// ---------------------------------------------------------------- keyboard

const SHORTCUTS = { c: "claim", h: "hide", a: "acknowledge", r: "reply", e: "escalate", d: "dismiss" };

function onKey(event) {
  if (!state.me || event.ctrlKey || event.metaKey || event.altKey) return;
  const tag = event.target.tagName;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || event.target.isContentEditable) return;
  const index = state.items.findIndex((item) => item.case_id === state.selectedId);
  if (event.key === "j" || event.key === "k") {
    const next = state.items[Math.min(Math.max(index + (event.key === "j" ? 1 : -1), 0), state.items.length - 1)];
    if (next) openCase(next.case_id, { focus: false });
    event.preventDefault();
  } else if (event.key === "/") {
    $("search")?.focus();
    event.preventDefault();
  } else if (event.key === "?") {
    announce(t("shortcuts.help"));
    event.preventDefault();
  } else if (SHORTCUTS[event.key]) {
    const button = document.querySelector(`#case [data-action="${SHORTCUTS[event.key]}"]`);
    if (button && !button.disabled) {
      button.click();
      event.preventDefault();
    }
  } else if (event.key === "n") {
    const submit = document.querySelector("#case [data-submit-next]");
    if (submit) {
      submit.click();
      event.preventDefault();
    }
  }
}

boot();
