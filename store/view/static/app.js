// tracegen view: reads the store's JSON API (docs/view.md) and draws the
// report summary, the trace list and one trace's waterfall. No libraries,
// no network beyond this server.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { offset: 0, limit: 50, total: 0, selected: "" };

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

function num(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function ms(v) {
  if (v >= 1000) return num(v / 1000) + " s";
  if (v >= 1) return num(v) + " ms";
  return num(v * 1000) + " µs";
}

const joules = (kwh) => kwh * 3.6e6;

async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function showError(err) {
  const p = $("#error");
  p.textContent = err ? String(err.message || err) : "";
  p.hidden = !err;
}

// filterQuery turns the form into API parameters (name=, session=, ...).
function filterQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) {
    if (v.trim() !== "") q.append(k, v.trim());
  }
  return q;
}

async function loadSummary() {
  const q = filterQuery();
  const r = await api("/api/report?" + q);
  const t = r.totals;
  const cards = [
    ["spans", t.spans], ["traces", t.traces], ["errors", t.errors], ["LLM calls", t.llm_calls],
    ["wall time", ms(t.wall_ms)], ["tokens", t.input_tokens + t.output_tokens],
    ["energy (J)", num(t.energy_j)], ["CO2e (g)", num(t.co2e_g)], ["water (L)", num(t.water_l)],
  ];
  $("#totals").replaceChildren(...cards.map(([k, v]) => el("div", { class: "card" }, el("b", { text: String(v) }), el("span", { text: k }))));
  fillTop("#top-functions", r.functions, "function");
  fillTop("#top-models", r.models, "model");
}

function fillTop(sel, rows, what) {
  const table = $(sel);
  table.tHead.replaceChildren(el("tr", {}, el("th", { text: what }), el("th", { class: "num", text: "calls" }),
    el("th", { class: "num", text: "energy (J)" }), el("th", { class: "num", text: "CO2e (g)" }), el("th", { class: "num", text: "tokens" })));
  const body = (rows || []).slice(0, 5).map((r) => el("tr", {}, el("td", { text: r.name }), el("td", { class: "num", text: String(r.spans) }),
    el("td", { class: "num", text: num(r.energy_j) }), el("td", { class: "num", text: num(r.co2e_g) }),
    el("td", { class: "num", text: String(r.input_tokens + r.output_tokens) })));
  if (body.length === 0) body.push(el("tr", {}, el("td", { colspan: "5", text: "none" })));
  table.tBodies[0].replaceChildren(...body);
}

async function loadTraces() {
  const q = filterQuery();
  q.set("limit", state.limit);
  q.set("offset", state.offset);
  const list = await api("/api/traces?" + q);
  state.total = list.total;
  const first = list.traces.length ? state.offset + 1 : 0;
  $("#count").textContent = `${list.total} traces match; ${first}–${state.offset + list.traces.length} shown, newest first`;
  $("#traces tbody").replaceChildren(...list.traces.map((t) => {
    const tr = el("tr", { "data-trace": t.trace_id, class: (t.errors ? "failed " : "") + (t.trace_id === state.selected ? "selected" : "") },
      el("td", { text: new Date(t.start).toISOString().replace("T", " ").replace("Z", "") }),
      el("td", { text: t.root }), el("td", { class: "num", text: ms(t.duration_ms) }),
      el("td", { class: "num", text: String(t.spans) }), el("td", { class: "num", text: String(t.errors) }),
      el("td", { class: "num", text: String(t.input_tokens + t.output_tokens) }),
      el("td", { class: "num", text: num(joules(t.energy_kwh)) }), el("td", { class: "num", text: num(t.co2e_g) }),
      el("td", { text: t.models.join(", ") }));
    tr.addEventListener("click", () => selectTrace(t.trace_id));
    return tr;
  }));
  $("#prev").disabled = state.offset === 0;
  $("#next").disabled = state.offset + state.limit >= state.total;
}

function frac(v, m) { return m > 0 ? Math.max(0, Math.min(1, v / m)) : 0; }

async function selectTrace(id) {
  try {
    const t = await api("/api/traces/" + encodeURIComponent(id));
    state.selected = id;
    for (const tr of document.querySelectorAll("#traces tbody tr")) tr.classList.toggle("selected", tr.dataset.trace === id);
    drawTrace(t);
    history.replaceState(null, "", "#" + id);
    showError(null);
  } catch (err) { showError(err); }
}

function drawTrace(tr) {
  const t = tr.summary;
  $("#detail").hidden = false;
  $("#trace-title").textContent = `${t.root} · ${t.trace_id}`;
  $("#trace-meta").textContent = `${t.spans} spans, ${t.errors} errors, ${ms(t.duration_ms)}, ` +
    `${num(joules(t.energy_kwh))} J, ${num(t.co2e_g)} g CO2e, ${num(t.water_l)} L water, ` +
    `${t.input_tokens + t.output_tokens} tokens` + (t.session ? `, session ${t.session}` : "");
  const total = Math.max(t.duration_ms, 1e-6);
  const m = tr.max;
  const rows = tr.spans.map((s) => {
    const cls = ["span"];
    if (s.status === "error") cls.push("error");
    if (s.expensive) cls.push("expensive");
    const name = el("div", { class: "name", style: `padding-left:${s.depth * 1.1}em`, title: s.name },
      s.name, s.model ? el("small", { text: " " + s.model }) : "", el("span", { class: "badge", text: "most expensive" }));
    const bar = el("div", { class: "bar", style: `left:${100 * s.offset_ms / total}%;width:${100 * s.duration_ms / total}%` });
    const timeline = el("div", { class: "timeline" }, bar, el("span", { class: "dur", text: ms(s.duration_ms) }));
    const tok = s.input_tokens + s.output_tokens;
    const impact = el("div", { class: "impact", title: `energy ${num(joules(s.self.energy_kwh))} J, CO2e ${num(s.self.co2e_g)} g, ` +
      `water ${num(s.self.water_l)} L, tokens ${tok} (the span itself)` },
      el("i", { class: "energy", style: `width:${100 * frac(s.self.energy_kwh, m.energy_kwh)}%` }),
      el("i", { class: "co2e", style: `width:${100 * frac(s.self.co2e_g, m.co2e_g)}%` }),
      el("i", { class: "water", style: `width:${100 * frac(s.self.water_l, m.water_l)}%` }),
      el("i", { class: "tokens", style: `width:${100 * frac(tok, m.tokens)}%` }));
    const row = el("div", { class: cls.join(" "), role: "treeitem", "aria-level": String(s.depth + 1),
      "data-span": s.span_id, "data-depth": String(s.depth), "data-name": s.name }, name, timeline, impact);
    row.addEventListener("click", () => showSpan(row, s));
    return row;
  });
  $("#waterfall").replaceChildren(...rows);
  $("#span-detail").hidden = true;
}

function pretty(raw) {
  return el("pre", { text: JSON.stringify(raw, null, 2) });
}

function showSpan(row, s) {
  for (const r of document.querySelectorAll("#waterfall .span")) r.classList.toggle("selected", r === row);
  const items = [
    ["span", `${s.name} (${s.span_id})`], ["kind / type", `${s.kind}${s.type ? " / " + s.type : ""}`],
    ["status", s.status + (s.status_message ? ": " + s.status_message : "")],
    ["start", `${s.start} (+${ms(s.offset_ms)})`], ["duration", ms(s.duration_ms)],
    ["energy", `${num(joules(s.impact.energy_kwh))} J (itself ${num(joules(s.self.energy_kwh))} J)` + (s.energy_source ? `, ${s.energy_source}` : "")],
    ["CO2e", `${num(s.impact.co2e_g)} g (itself ${num(s.self.co2e_g)} g)`], ["water", `${num(s.impact.water_l)} L (itself ${num(s.self.water_l)} L)`],
  ];
  if (s.model || s.input_tokens || s.output_tokens) items.push(["model", s.model || "—"], ["tokens", `${s.input_tokens} in, ${s.output_tokens} out`]);
  if (s.estimate) items.push(["estimate", [s.estimate.method, s.estimate.model, s.estimate.note].filter(Boolean).join(", ")]);
  const dl = el("dl", {});
  for (const [k, v] of items) dl.append(el("dt", { text: k }), el("dd", { text: String(v) }));
  for (const [k, v] of [["input", s.input], ["output", s.output], ["attributes", s.attributes], ["events", s.events], ["resource", s.resource]]) {
    if (v && (Array.isArray(v) ? v.length : Object.keys(v).length)) dl.append(el("dt", { text: k }), el("dd", {}, pretty(v)));
  }
  const box = $("#span-detail");
  box.replaceChildren(dl);
  box.hidden = false;
}

async function refresh() {
  try {
    await Promise.all([loadTraces(), loadSummary()]);
    showError(null);
  } catch (err) { showError(err); }
}

async function fillValues(kind, list) {
  try {
    const vals = await api(`/api/values?kind=${kind}&limit=500`);
    $(list).replaceChildren(...vals.map((v) => el("option", { value: v.value, label: `${v.value} (${v.traces})` })));
  } catch (err) { /* suggestions only */ }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("#filters").addEventListener("submit", (e) => { e.preventDefault(); state.offset = 0; refresh(); });
  $("#filters").addEventListener("reset", () => { setTimeout(() => { state.offset = 0; refresh(); }, 0); });
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); loadTraces().catch(showError); });
  $("#next").addEventListener("click", () => { state.offset += state.limit; loadTraces().catch(showError); });
  api("/api/store").then((s) => { $("#store").textContent = `${s.path}: ${s.traces} traces, ${s.spans} spans`; }).catch(showError);
  fillValues("name", "#names"); fillValues("session", "#sessions"); fillValues("model", "#models");
  await refresh();
  if (location.hash.length > 1) selectTrace(location.hash.slice(1));
  document.body.dataset.ready = "true";
});
