// The analyst board: polls the worker's API and draws the alerts and a key's chart.
"use strict";

// The address's fragment may carry the API token and a key to chart: #token=...&key=...
const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get("token");
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const POLL_MS = 3000;
const DAYS_SHOWN = 14;
const SVG = "http://www.w3.org/2000/svg";
let shownVersion = null;
let shownFilters = null;
let chosenKey = null;

async function getJSON(path) {
  const response = await fetch(path, { headers });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function utc(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

function filters() {
  const form = document.getElementById("filters");
  const params = new URLSearchParams();
  for (const name of ["signal", "region", "severity"]) {
    const value = form.elements[name].value;
    if (value) params.set(name, value);
  }
  return params.toString();
}

function fillChoices(select, values) {
  const chosen = select.value;
  const have = Array.from(select.options).map((o) => o.value).slice(1);
  if (have.join("\n") === values.join("\n")) return;
  select.replaceChildren(el("option", { value: "" }, "all"));
  for (const value of values) select.append(el("option", { value }, value));
  select.value = values.includes(chosen) ? chosen : "";
}

function evidenceList(alert) {
  const list = el("ul", { class: "evidence" });
  for (const e of alert.evidence) {
    const title = e.url ? el("a", { href: e.url, rel: "noopener noreferrer" }, e.title) : e.title;
    const item = el("li", {}, title, ` — ${e.source || "unknown outlet"} `,
      el("span", { class: "terms" }, `[${e.matched_terms.join(", ")}]`));
    if (e.sentence) item.append(el("div", { class: "sentence" }, e.sentence));
    list.append(item);
  }
  return list;
}

function renderAlerts(alerts) {
  const body = document.querySelector("#alerts tbody");
  body.replaceChildren();
  for (const a of alerts) {
    const key = el("button", { class: "key", type: "button", "data-key": a.key }, a.key);
    key.addEventListener("click", () => chooseKey(a.key));
    body.append(el("tr", { class: "alert", "data-signal": a.signal_id, "data-severity": a.severity },
      el("td", {}, utc(Date.parse(a.window_end) / 1000)),
      el("td", {}, key),
      el("td", {}, el("span", { class: `sev ${a.severity}` }, a.severity)),
      el("td", {}, `${a.update} · ${a.scale} · ${a.detector.name}`),
      el("td", {}, `${a.count} (expected ${a.baseline.toFixed(1)})`),
      el("td", {}, evidenceList(a))));
  }
  document.getElementById("count").textContent = `(${alerts.length})`;
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const query = filters();
    const data = await getJSON(`/v1/alerts?${query}`);
    const form = document.getElementById("filters");
    fillChoices(form.elements.signal, data.facets.signals);
    fillChoices(form.elements.region, data.facets.regions);
    fillChoices(form.elements.severity, data.facets.severities);
    if (data.version !== shownVersion || query !== shownFilters) {
      renderAlerts(data.alerts);
      shownVersion = data.version;
      shownFilters = query;
      if (chosenKey) await drawChart(chosenKey);
    }
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = `cannot reach the worker (${error.message}); retrying`;
  }
}

async function chooseKey(key) {
  chosenKey = key;
  await drawChart(key);
  document.getElementById("chart-panel").scrollIntoView({ behavior: "smooth" });
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function drawChart(key) {
  const data = await getJSON(`/v1/keys/${encodeURIComponent(key)}/series`);
  document.getElementById("chart-panel").hidden = false;
  document.getElementById("chart-title").textContent = key;
  const keep = Math.max(0, data.starts.length - Math.round((DAYS_SHOWN * 86400) / data.step));
  const starts = data.starts.slice(keep);
  const counts = data.counts.slice(keep);
  const baselines = data.baselines.slice(keep);
  const [W, H, left, right, top, bottom] = [1000, 260, 44, 12, 14, 28];
  const t0 = starts.length ? starts[0] : 0;
  const t1 = starts.length ? starts[starts.length - 1] + data.step : 1;
  const peak = Math.max(1, ...counts, ...baselines.filter((b) => b !== null));
  const ymax = peak * 1.15;
  const x = (t) => left + ((t - t0) / Math.max(t1 - t0, 1)) * (W - left - right);
  const y = (v) => H - bottom - (v / ymax) * (H - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
  chart.append(svg("line", { x1: left, x2: W - right, y1: y(0), y2: y(0), stroke: "#999" }));
  for (const v of [0, peak / 2, peak]) {
    chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11 },
      Number.isInteger(v) ? String(v) : v.toFixed(1)));
  }
  const barWidth = Math.max(1, x(t0 + data.step) - x(t0) - 1);
  starts.forEach((s, i) => {
    if (counts[i] > 0) {
      chart.append(svg("rect", { class: "bar", x: x(s), y: y(counts[i]), width: barWidth,
        height: y(0) - y(counts[i]), fill: "#4c78a8" }));
    }
  });
  const points = starts.map((s, i) => (baselines[i] === null ? null : `${x(s)},${y(baselines[i])}`));
  const line = points.filter((p) => p !== null).join(" ");
  if (line) chart.append(svg("polyline", { class: "baseline", points: line, fill: "none",
    stroke: "#e45756", "stroke-width": 1.5 }));
  for (const a of data.alerts) {
    if (a.window_end < t0 || a.window_end > t1) continue;
    const cx = x(a.window_end);
    chart.append(svg("path", { class: "alert-mark", d: `M${cx - 5},${top} L${cx + 5},${top} L${cx},${top + 9} Z`,
      fill: "#222" }, undefined));
  }
  const days = Math.max(1, Math.round((t1 - t0) / 86400 / 6));
  for (let t = Math.ceil(t0 / 86400) * 86400; t < t1; t += days * 86400) {
    chart.append(svg("text", { x: x(t), y: H - 8, "font-size": 11, "text-anchor": "middle" },
      new Date(t * 1000).toISOString().slice(5, 10)));
  }
  document.getElementById("chart").replaceChildren(chart);
}

document.getElementById("filters").addEventListener("change", () => refresh());
if (fragment.get("key")) chooseKey(fragment.get("key")).catch(() => {});
refresh();
setInterval(refresh, POLL_MS);
