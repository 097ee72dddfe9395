// The case view: the post as it appeared, why it is here, what happened, and what this reviewer may do.
import { clear, h, when } from "./dom.js";
import { language, plainDetail, reasonSentence, refusalText, t } from "./i18n.js";
import { TEMPLATES, fill, placeholders } from "./templates.js";

const MIN_REASON = 10;

function section(titleKey, ...content) {
  const id = `sec-${titleKey.replace(/\W/g, "-")}`;
  return h("section", { className: "block", "aria-labelledby": id }, h("h3", { id }, t(titleKey)), ...content);
}

function percent(value) {
  return `${Math.round(value * 100)} %`;
}

function renderPost(c) {
  const post = c.post;
  const author = post.author || {};
  return section("case.post",
    h("p", { className: "post-head" },
      h("strong", { className: "author-name" }, author.name || author.id || "?"),
      author.handle ? h("span", { className: "muted" }, ` @${author.handle}`) : null,
      author.followers !== null && author.followers !== undefined
        ? h("span", { className: "muted" }, ` · ${t("case.followers", { count: author.followers.toLocaleString(language()) })}`) : null,
      h("span", { className: "muted" }, ` · ${post.platform} ${post.kind} · `), when(post.created_at)),
    h("blockquote", { className: "post-text", lang: c.language || null }, post.text || "—"),
    post.permalink ? h("p", {}, h("a", { href: post.permalink, target: "_blank", rel: "noopener noreferrer" },
      t("case.permalink"))) : null);
}

function renderWhy(c) {
  const scores = Object.entries(c.scores || {}).sort((a, b) => b[1] - a[1]);
  return section("case.reasons",
    h("ul", { className: "reasons" }, c.reasons.map((reason) => {
      const detail = reason.code === "model.score" ? null : plainDetail(reason.detail);
      return h("li", { dataset: { code: reason.code } }, reasonSentence(reason),
        detail ? h("span", { className: "muted" }, ` « ${detail} »`) : null);
    })),
    c.safety && c.safety.length ? h("p", { className: "safety" }, `${t("case.safety")}: `,
      c.safety.map((code) => reasonSentence({ code, message: code })).join(" ")) : null,
    h("dl", { className: "scores", "aria-label": t("case.scores") }, scores.map(([label, value]) => [
      h("dt", {}, t(`label.${label}`)),
      h("dd", {}, h("meter", { min: 0, max: 1, value, "aria-label": `${t(`label.${label}`)} ${percent(value)}` }),
        ` ${percent(value)}`)])));
}

function callOf(history, actionId) {
  const events = history.filter((event) => event.data && event.data.action_id === actionId && event.data.call);
  return events.length ? events[events.length - 1].data.call : null;
}

function describeCall(call) {
  const body = call.form ? new URLSearchParams(call.form).toString() : call.json ? JSON.stringify(call.json) : "";
  return `${call.method} ${call.url}${body ? ` ${body}` : ""}`;
}

function renderPlatform(detail) {
  const c = detail.case;
  return section("case.visibility",
    h("p", { className: `visibility-state ${detail.visibility}`, id: "visibility" }, t(`visibility.${detail.visibility}`)),
    h("h4", {}, t("case.actions")),
    c.actions.length ? h("ul", { className: "actions", id: "action-list" }, c.actions.map((action) => {
      const call = callOf(detail.history, action.action_id);
      return h("li", { dataset: { status: action.status } },
        h("strong", {}, t(`action.kind.${action.kind}`)), " — ", t(`action.status.${action.status}`),
        call ? h("code", { className: "call" }, describeCall(call)) : null,
        action.last_error ? h("span", { className: "error" }, ` ${action.last_error}`) : null,
        h("span", { className: "muted" }, " · ", action.requested_by, " · "), when(action.requested_at));
    })) : h("p", { className: "muted" }, t("case.actions_none")));
}

function renderPromise(c) {
  if (!c.promise) return null;
  const p = c.promise;
  const kept = p.kept === true ? t("case.promise_kept") : p.kept === false ? t("case.promise_broken") : null;
  return section("case.promise",
    h("p", {}, `« ${p.text} » `, h("span", { className: "muted" }, t("case.promise_due", { time: "" })), when(p.due_at),
      kept ? h("strong", { className: p.kept ? "ok" : "error" }, ` — ${kept}`) : null),
    p.outcome ? h("p", {}, p.outcome) : null);
}

function renderProposals(c) {
  if (!c.ban_proposals.length) return null;
  return section("case.proposals", h("ul", { className: "proposals" }, c.ban_proposals.map((p) => h("li",
    { dataset: { proposal: p.proposal_id, status: p.status } },
    h("strong", {}, p.status), " — ", t("case.proposed_by", { user: p.proposed_by, reason: p.reason }), " · ",
    when(p.proposed_at),
    p.decided_by ? h("span", { className: "muted" }, ` · ${p.decided_by}`) : null))));
}

function renderRelated(detail) {
  const c = detail.case;
  const related = detail.related || [];
  return section("case.related",
    c.person_key ? h("p", { className: "muted" }, `${t("case.person")}: `, h("code", {}, c.person_key)) : null,
    c.order_numbers && c.order_numbers.length ? h("p", {}, `${t("case.orders")}: `, c.order_numbers.join(", ")) : null,
    related.length ? h("ul", { className: "related" }, related.map((r) => h("li", {},
      h("span", { className: `badge ${r.label}` }, t(`label.${r.label}`)), " ", t(`status.${r.status}`), " · ", r.platform,
      " · ", h("code", {}, r.case_id), " ", when(r.created_at),
      r.order_numbers && r.order_numbers.length ? ` · ${r.order_numbers.join(", ")}` : null)))
      : h("p", { className: "muted" }, t("case.related_none")));
}

function renderHistory(detail) {
  return section("case.history", h("ol", { className: "history" }, detail.history.map((event) => h("li", {},
    when(event.at), " ", h("strong", {}, event.action), " · ", event.actor,
    event.reason ? h("span", {}, ` — ${event.reason}`) : null,
    event.data && event.data.promise ? h("span", {}, ` — « ${event.data.promise} »`) : null,
    event.data && event.data.promise_kept !== undefined && event.data.promise_kept !== null
      ? h("span", {}, ` — ${event.data.promise_kept ? t("case.promise_kept") : t("case.promise_broken")}`) : null))));
}

// ---------------------------------------------------------------- decisions

function field(id, labelKey, control, hint) {
  return h("div", { className: "field" }, h("label", { for: id }, t(labelKey)), control,
    hint ? h("span", { className: "muted hint", id: `${id}-hint` }, hint) : null);
}

function textArea(id, { required = false, min = 0 } = {}) {
  return h("textarea", { id, name: id, rows: 2, required, minlength: min || null, maxlength: 2000,
    "aria-describedby": min ? `${id}-hint` : null });
}

function localInput(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function replyFields(c) {
  const language_ = language();
  const templates = TEMPLATES[language_].filter((tpl) => tpl.labels.includes(c.label));
  const values = {};
  const text = textArea("reply_text", { required: true });
  const slots = h("div", { className: "placeholders", id: "placeholders" });
  const missing = h("p", { className: "error", id: "reply-missing", "aria-live": "polite" });
  let template = "";
  const sync = () => {
    const names = placeholders(text.value);
    clear(slots, names.map((name) => field(`ph-${name}`, "decide.template", h("input", {
      id: `ph-${name}`, name, value: values[name] || "", "data-placeholder": name,
      oninput: (event) => { values[name] = event.target.value; text.value = fill(template || text.value, values); update(); },
    }))).map((node, index) => {
      node.querySelector("label").textContent = names[index];
      return node;
    }));
    update();
  };
  const update = () => {
    const names = placeholders(text.value);
    missing.textContent = names.length ? t("decide.placeholders", { names: names.join(", ") }) : "";
    const form = text.closest("form");
    if (form) form.querySelectorAll("[type=submit]").forEach((button) => { button.disabled = names.length > 0; });
  };
  text.addEventListener("input", () => { template = ""; update(); });
  const chooser = h("select", { id: "template", onchange: (event) => {
    const chosen = templates.find((tpl) => tpl.id === event.target.value);
    template = chosen ? chosen.text : "";
    for (const key of Object.keys(values)) delete values[key];
    text.value = template;
    sync();
  } }, h("option", { value: "" }, t("decide.template_none")), templates.map((tpl) => h("option", { value: tpl.id }, tpl.title)));
  return { nodes: [field("template", "decide.template", chooser), slots, field("reply_text", "decide.reply_text", text), missing],
    after: update };
}

// What each action asks for, and which API call it makes.
function formFor(action, detail, api, extra = {}) {
  const c = detail.case;
  const version = c.version;
  const value = (form, name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const reasonField = (required, min = MIN_REASON) => field("reason", "decide.reason", textArea("reason", { required, min: required ? min : 0 }),
    required ? t("decide.reason_hint") : null);
  switch (action) {
    case "hide":
    case "close":
      return { nodes: [reasonField(false)], call: (f) => api.decide(c.case_id, { expected_version: version, decision: action, reason: value(f, "reason") || undefined }) };
    case "dismiss":
    case "escalate":
      return { nodes: [reasonField(true)], call: (f) => api.decide(c.case_id, { expected_version: version, decision: action, reason: value(f, "reason") }) };
    case "relabel":
      return { nodes: [field("label", "decide.new_label", h("select", { id: "label", name: "label", required: true },
        ["spam", "complaint", "crisis", "normal"].filter((l) => l !== c.label).map((l) => h("option", { value: l }, t(`label.${l}`))))),
      reasonField(true)],
      call: (f) => api.decide(c.case_id, { expected_version: version, decision: "relabel", label: value(f, "label"), reason: value(f, "reason") }) };
    case "acknowledge": {
      const complaint = c.label === "complaint";
      return { nodes: [
        field("promise", "decide.promise", textArea("promise", { required: complaint })),
        field("promise_due_at", "decide.promise_due", h("input", { type: "datetime-local", id: "promise_due_at", name: "promise_due_at",
          value: c.sla_due_at ? "" : "" }))],
      call: (f) => {
        const due = value(f, "promise_due_at");
        return api.decide(c.case_id, { expected_version: version, decision: "acknowledge", promise: value(f, "promise") || undefined,
          promise_due_at: due ? new Date(due).toISOString() : undefined });
      } };
    }
    case "resolve": {
      const promise = c.promise;
      const keptNow = promise ? Date.now() <= new Date(promise.due_at).getTime() : null;
      return { nodes: [
        promise ? h("p", { className: keptNow ? "ok" : "error", id: "promise-preview" },
          `${t("case.promise")}: « ${promise.text} » — ${keptNow ? t("case.promise_kept") : t("case.promise_broken")}`) : null,
        field("outcome", "decide.outcome", textArea("outcome", { required: c.label === "complaint" }))],
      call: (f) => api.decide(c.case_id, { expected_version: version, decision: "resolve", outcome: value(f, "outcome") || undefined }) };
    }
    case "reply": {
      const reply = replyFields(c);
      return { nodes: reply.nodes, after: reply.after,
        call: (f) => api.decide(c.case_id, { expected_version: version, decision: "reply", reply_text: value(f, "reply_text") }) };
    }
    case "undo_hide":
      return { nodes: [reasonField(true, 3)], call: (f) => api.undoHide(c.case_id, version, value(f, "reason")) };
    case "propose_ban":
      return { nodes: [reasonField(true)], call: (f) => api.proposeBan(c.case_id, version, value(f, "reason")) };
    case "approve":
      return { nodes: [reasonField(false)], call: (f) => api.approve(c.case_id, extra.proposal, version, value(f, "reason")) };
    case "reject":
      return { nodes: [reasonField(false)], call: (f) => api.reject(c.case_id, extra.proposal, version, value(f, "reason")) };
    default:
      return null;
  }
}

function renderDecisions(detail, ctx) {
  const c = detail.case;
  const can = detail.available || {};
  const api = ctx.api();
  const area = h("div", { className: "decision-form", id: "decision-form" });
  const direct = (action, call, label) => h("button", { type: "button", dataset: { action },
    onclick: () => ctx.run(call, { what: label }) }, label);
  const withForm = (action, label, extra = {}) => h("button", { type: "button", dataset: { action, ...(extra.proposal ? { proposal: extra.proposal } : {}) },
    className: ["hide", "propose_ban", "approve"].includes(action) ? "danger-outline" : null,
    onclick: () => openForm(area, action, label, detail, api, ctx, extra) }, label);
  const buttons = [];
  if (can.claim) buttons.push(direct("claim", () => api.claim(c.case_id, c.version), t("decide.claim")));
  if (can.release) buttons.push(direct("release", () => api.release(c.case_id, c.version), t("decide.release")));
  for (const decision of can.decisions || []) buttons.push(withForm(decision, t(`decide.${decision}`)));
  if (can.undo_hide) buttons.push(withForm("undo_hide", t("decide.undo_hide")));
  if (can.propose_ban) buttons.push(withForm("propose_ban", t("decide.propose_ban")));
  for (const proposal of can.approve || []) buttons.push(withForm("approve", t("decide.approve"), { proposal }));
  for (const proposal of can.reject || []) buttons.push(withForm("reject", t("decide.reject"), { proposal }));
  for (const proposal of can.withdraw || []) buttons.push(h("button", { type: "button", dataset: { action: "withdraw", proposal },
    onclick: () => ctx.run(() => api.reject(c.case_id, proposal, c.version), { what: t("decide.withdraw") }) }, t("decide.withdraw")));
  const notes = Object.entries(can.unavailable || {}).map(([action, why]) => h("li", { dataset: { unavailable: action } },
    h("strong", {}, action === "decide" ? t("decide.title") : t(`decide.${action}`)), " — ", refusalText(null, why)));
  return h("section", { className: "block decide", "aria-labelledby": "decide-title" },
    h("h3", { id: "decide-title" }, t("decide.title")),
    can.claim_expires_at ? h("p", { className: "muted" }, t("case.claim_expires", { time: "" }), when(can.claim_expires_at)) : null,
    buttons.length ? h("div", { className: "decision-buttons", role: "group", "aria-labelledby": "decide-title" }, buttons)
      : h("p", { className: "muted" }, t("decide.none")),
    area,
    notes.length ? h("ul", { className: "not-offered", "aria-label": t("decide.not_offered", { why: "" }) }, notes) : null);
}

function openForm(area, action, label, detail, api, ctx, extra) {
  const spec = formFor(action, detail, api, extra);
  if (!spec) return;
  ctx.onEditing(true);
  let next = false;
  const error = h("p", { className: "error", role: "alert", id: "form-error" });
  const form = h("form", { className: "decision", dataset: { form: action }, onsubmit: async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const ok = await ctx.run(() => spec.call(form), { what: label, next });
    if (!ok) error.textContent = document.getElementById("status").textContent;
  },
  onkeydown: (event) => {
    if (event.key === "Escape") { close(); }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { next = true; form.requestSubmit(); }
  } },
  h("h4", {}, label),
  spec.nodes,
  error,
  h("div", { className: "form-actions" },
    h("button", { type: "submit", className: "primary", onclick: () => { next = false; } }, t("decide.submit")),
    h("button", { type: "submit", "data-submit-next": "", onclick: () => { next = true; } }, t("decide.submit_next")),
    h("button", { type: "button", onclick: () => close() }, t("decide.cancel"))));
  const close = () => { clear(area); ctx.onEditing(false); };
  clear(area, form);
  if (spec.after) spec.after();
  const first = form.querySelector("textarea, input, select");
  (first || form.querySelector("button")).focus();
}

export function renderCase(detail, ctx) {
  const c = detail.case;
  return h("article", { className: "case", "aria-labelledby": "case-title", dataset: { caseId: c.case_id, version: c.version } },
    h("header", { className: "case-head" },
      h("h2", { id: "case-title" }, h("span", { className: `badge ${c.label}` }, t(`label.${c.label}`)), " ", c.case_id),
      h("p", { className: "muted" }, t(`status.${c.status}`), " · ", t("case.version", { version: c.version }),
        c.claimed_by ? ` · ${t("list.claimed_by", { user: c.claimed_by })}` : null,
        c.sla_due_at ? [" · ", t("list.due", { time: "" }), when(c.sla_due_at)] : null)),
    renderPost(c),
    renderDecisions(detail, ctx),
    renderWhy(c),
    renderPromise(c),
    renderProposals(c),
    c.suggested_reply ? section("case.suggested_reply", h("p", {}, c.suggested_reply)) : null,
    renderPlatform(detail),
    renderRelated(detail),
    renderHistory(detail));
}
