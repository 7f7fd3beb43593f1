// The comparison page: calls /v1/compare/* and draws the answers with plain DOM calls.
// Every text from the API goes through textContent, never innerHTML.
"use strict";

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// With WORDSPACE_API_KEYS set, /v1 answers 401 until the page sends a key: ask for it once
// and keep it for this tab only.
const KEY = "wordspace-api-key";

async function authorized(url, options = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const key = sessionStorage.getItem(KEY);
    const headers = {...(options.headers || {}), ...(key ? {Authorization: `Bearer ${key}`} : {})};
    const response = await fetch(url, {...options, headers});
    if (response.status !== 401 || attempt > 0) return response;
    const given = window.prompt("This service needs an API key:");
    if (!given) return response;
    sessionStorage.setItem(KEY, given.trim());
  }
}

async function api(url, options) {
  const response = await authorized(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || body.title || response.statusText);
  return body;
}

// An <img> cannot send the key: fetch the picture, then show it from a blob URL.
// `optional`: a picture the service may not have (no learning curve) is left out quietly.
function image(url, alt, optional = false) {
  const node = el("img", {alt});
  authorized(url).then(async (response) => {
    if (response.ok) node.src = URL.createObjectURL(await response.blob());
    else if (optional) node.remove();
    else node.replaceWith(el("p", {class: "error", text: `${alt}: ${response.status}`}));
  });
  return node;
}

function status(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.className = isError ? "error" : "muted";
}

async function loadSpaces() {
  try {
    const body = await api("/v1/spaces");
    const names = body.spaces.map((s) => `${s.name} (${s.kind}, ${s.size.toLocaleString()} words, ${s.dimension}d)`);
    status("#spaces", names.length ? "Spaces: " + names.join(" · ") : "No space is loaded.");
  } catch (e) {
    status("#spaces", e.message, true);
  }
}

async function compareWord(event) {
  event.preventDefault();
  const word = $("#word").value.trim();
  const k = $("#k").value || 10;
  if (!word) return;
  status("#word-status", "searching…");
  $("#panels").replaceChildren();
  $("#word-plot").replaceChildren();
  try {
    const body = await api(`/v1/compare/neighbors?word=${encodeURIComponent(word)}&k=${k}`);
    const shared = new Set(body.shared);
    for (const space of body.spaces) $("#panels").append(neighborPanel(space, shared));
    for (const name of body.absent) {
      $("#panels").append(el("div", {class: "panel absent", "data-space": name},
        el("h3", {text: name}), el("p", {text: `has no “${word}”`})));
    }
    drawOverlap(body.pairs);
    status("#word-status", `${body.spaces.length} space(s); words in bold are in every list.`);
    const words = [word, ...body.spaces[0].neighbors.slice(0, 12).map((n) => n.word)];
    $("#word-plot").append(image(`/v1/compare/plot?format=svg&words=${encodeURIComponent(words.join(","))}`,
      "projection of the words in every space"));
  } catch (e) {
    status("#word-status", e.message, true);
  }
}

function neighborPanel(space, shared) {
  const panel = el("div", {class: "panel", "data-space": space.space}, el("h3", {text: space.space}));
  if (!space.found) {
    panel.classList.add("absent");
    panel.append(el("p", {text: "word absent" + (space.suggestions.length ? "; close: " + space.suggestions.join(", ") : "")}));
    return panel;
  }
  const list = el("ol");
  for (const n of space.neighbors) {
    const ranks = Object.entries(n.ranks).map(([s, r]) => `${s}: ${r === null ? "absent" : "#" + r}`).join(", ");
    list.append(el("li", {class: shared.has(n.word) ? "shared" : "", title: "rank elsewhere — " + ranks},
      n.word, el("span", {class: "score", text: n.score.toFixed(3)}),
      el("span", {class: "ranks", text: ranks ? "(" + ranks + ")" : ""})));
  }
  panel.append(list);
  return panel;
}

function drawOverlap(pairs) {
  const table = $("#overlap");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const p of pairs) {
    body.append(el("tr", {}, el("td", {text: `${p.a} vs ${p.b}`}), el("td", {text: p.jaccard.toFixed(2)}),
      el("td", {text: p.rbo.toFixed(2)}), el("td", {text: p.shared.join(", ")})));
  }
  table.hidden = pairs.length === 0;
}

async function compareSentences(event) {
  event.preventDefault();
  const sentences = $("#sentences").value.split("\n").map((s) => s.trim()).filter(Boolean);
  status("#sentence-status", "embedding…");
  $("#heatmaps").replaceChildren();
  try {
    const body = await api("/v1/compare/sentences", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({sentences})});
    for (const space of body.spaces) $("#heatmaps").append(heatmap(space, sentences.length));
    status("#sentence-status", "Cosine similarity of the sentence vectors; darker is closer.");
  } catch (e) {
    status("#sentence-status", e.message, true);
  }
}

function heatmap(space, n) {
  const labels = Array.from({length: n}, (_, i) => String.fromCharCode(97 + i));
  const table = el("table", {class: "heatmap"});
  table.append(el("tr", {}, el("th"), ...labels.map((l) => el("th", {text: l}))));
  space.similarity.forEach((row, i) => {
    const cells = row.map((v) => {
      const shade = v === null ? 0 : Math.max(0, Math.min(1, v));
      return el("td", {text: v === null ? "–" : v.toFixed(2),
        style: `background: rgba(33, 102, 172, ${shade.toFixed(3)}); color: ${shade > 0.55 ? "#fff" : "#222"}`});
    });
    table.append(el("tr", {}, el("th", {text: labels[i]}), ...cells));
  });
  const lost = space.missing.map((m, i) => m.length ? `${labels[i]}: ${m.join(" ")}` : "").filter(Boolean);
  return el("div", {class: "panel", "data-space": space.space}, el("h3", {text: space.space}), table,
    el("p", {class: "missing", text: lost.length ? "not found — " + lost.join("; ") : "every token found"}));
}

const fmt = (v, digits = 3) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

async function loadScorecard() {
  status("#scorecard-status", "computing (the first time takes a few seconds per space)…");
  try {
    const body = await api("/v1/compare/evaluation");
    const rows = [
      ["WordSim353 ρ", (e) => fmt(e.wordsim353.spearman), (e) => `${e.wordsim353.answered}/${e.wordsim353.total}`],
      ["SimLex-999 ρ", (e) => fmt(e.simlex999.spearman), (e) => `${e.simlex999.answered}/${e.simlex999.total}`],
      ["analogy 3CosAdd", (e) => fmt(e.analogy.methods["3cosadd"].overall.accuracy), (e) => `${e.analogy.methods["3cosadd"].overall.answered}/${e.analogy.methods["3cosadd"].overall.total}`],
      ["analogy 3CosMul", (e) => fmt(e.analogy.methods["3cosmul"].overall.accuracy), () => ""],
      ["probe accuracy", (e) => (e.task.computed ? fmt(e.task.probe.accuracy) : "–"), () => ""],
      ["neighbour purity", (e) => (e.task.computed ? fmt(e.task.purity.purity) : "–"), (e) => (e.task.computed ? "chance " + fmt(e.task.purity.chance, 2) : "")],
      ["mean cosine", (e) => fmt(e.geometry.mean_cosine), () => "anisotropy"],
      ["hubness skew", (e) => fmt(e.geometry.hubness_skew, 2), () => ""],
      ["norm CV", (e) => fmt(e.geometry.norm_cv), () => ""],
    ];
    const table = $("#scorecard");
    table.querySelector("thead").replaceChildren(el("tr", {}, el("th", {text: "score"}),
      ...body.spaces.map((e) => el("th", {text: e.space}))));
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const [label, value, note] of rows) {
      tbody.append(el("tr", {}, el("td", {text: label}), ...body.spaces.map((e) => {
        const extra = note(e);
        return el("td", {title: extra, text: value(e) + (extra ? ` (${extra})` : "")});
      })));
    }
    table.hidden = false;
    const plots = $("#scorecard-plots");
    plots.replaceChildren(image("/v1/compare/plot/scorecard?format=svg", "scorecard bars"));
    plots.append(image("/v1/compare/plot/learning-curve?format=svg", "learning curve", true));
    status("#scorecard-status", body.shared ? `Shared vocabulary of all spaces: ${body.shared.vocabulary.toLocaleString()} words.` : "");
  } catch (e) {
    status("#scorecard-status", e.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#word-form").addEventListener("submit", compareWord);
  $("#sentence-form").addEventListener("submit", compareSentences);
  $("#scorecard-button").addEventListener("click", loadScorecard);
  loadSpaces();
});
