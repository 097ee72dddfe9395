// Small DOM helpers: every text from a post goes through textContent, never HTML.
import { language, t } from "./i18n.js";

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

// Times in the reviewer's zone; UTC on hover (title) and in the machine-readable datetime attribute.
export function when(iso) {
  if (!iso) return h("span", {}, "—");
  const date = new Date(iso);
  const local = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(date);
  const utc = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })
    .format(date);
  return h("time", { datetime: date.toISOString(), title: `${utc} UTC` }, local);
}

export function relative(iso, now = Date.now()) {
  const minutes = Math.round((new Date(iso).getTime() - now) / 60000);
  const format = new Intl.RelativeTimeFormat(language(), { numeric: "auto" });
  if (Math.abs(minutes) < 60) return format.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return format.format(hours, "hour");
  return format.format(Math.round(hours / 24), "day");
}

// A clock for an SLA: relative time, local time on hover... and UTC in the datetime attribute.
export function dueClock(iso, now = Date.now()) {
  const overdue = new Date(iso).getTime() < now;
  const local = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  const utc = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })
    .format(new Date(iso));
  const text = overdue ? t("list.overdue", { time: relative(iso, now) }) : t("list.due", { time: relative(iso, now) });
  return h("time", { datetime: new Date(iso).toISOString(), title: `${local} · ${utc} UTC`,
    className: overdue ? "due overdue" : "due" }, text);
}

export function announce(message, kind = "info") {
  const region = document.getElementById("status");
  region.className = `status ${kind}`;
  region.textContent = message;
}
