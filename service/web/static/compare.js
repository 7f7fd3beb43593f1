// The questions a user puts to every space at once: a word's neighbours and where they lie,
// a word list's picture, pairs of words, an analogy, sentences. Each run clears the answer
// of the previous one first, so nothing stale stays on screen.
"use strict";

import {$, Problem, api, el, list, num, post, status} from "./api.js";
import {QUERY, colorOf, fit, heatmap, scatter} from "./draw.js";

// The spaces in the order /v1/spaces lists them: every row of panels follows it.
export const page = {spaces: []};

// Each kind of question's latest run: an answer that arrives after a newer question of the same
// kind was asked is dropped, so a slow answer never lands on top of the newer one.
const runs = {};
function begin(kind) {
  const id = (runs[kind] = (runs[kind] || 0) + 1);
  return () => runs[kind] === id;
}

const names = () => page.spaces.map((s) => s.name);
const q = encodeURIComponent;
// With many spaces, a comparison that searches every space takes the few the verdict ranks
// first and says which it left out: the page repeats that sentence.
const said = (body) => (body.note ? " " + body.note : "");

function clickable(words, run) {
  return words.map((w) => el("button", {type: "button", class: "link", text: w, onclick: () => run(w)}));
}

export async function compareWord(word, k = $("#k").value || 10) {
  const current = begin("word");
  $("#word").value = word;
  for (const id of ["#panels", "#word-plot", "#suggestions"]) $(id).replaceChildren();
  $("#overlap").hidden = $("#word-plot-title").hidden = true;
  status("#word-status", "searching…");
  let body;
  try {
    body = await api(`/v1/compare/neighbors?word=${q(word)}&k=${k}`);
  } catch (e) {
    if (!current()) return;
    status("#word-status", e.message, true);
    const close = (e instanceof Problem && e.body.suggestions) || [];
    if (close.length) $("#suggestions").append("Did you mean ", ...clickable(close, (w) => compareWord(w, k)), "?");
    return;
  }
  if (!current()) return;
  const found = new Map(body.spaces.map((s) => [s.space, s]));
  const shared = new Set(body.shared);
  for (const name of names()) {
    if (found.has(name)) $("#panels").append(neighborPanel(found.get(name), shared));
    else if (body.absent.includes(name)) $("#panels").append(absentPanel(name, word));
  }
  drawOverlap(body.pairs);
  const missing = body.absent.length ? ` Not in ${list(body.absent)}.` : "";
  const have = body.spaces.length + body.omitted.length;
  status("#word-status", `In ${have} of ${have + body.absent.length} spaces; bold: in every list.${missing}${said(body)}`);
  // the spaces whose neighbours are listed, when the service chose a few of many
  const few = body.omitted.length ? `&spaces=${q(body.spaces.map((s) => s.space).join(","))}` : "";
  const drawn = await drawProjection(`/v1/compare/projection?word=${q(word)}&k=${Math.min(k, 12)}${few}`, "#word-plot", current, word);
  if (drawn !== null) $("#word-plot-title").hidden = false;
}

function neighborPanel(space, shared) {
  const items = space.neighbors.map((n) => {
    const ranks = Object.entries(n.ranks).map(([s, r]) => `${s}: ${r === null ? "absent" : "#" + r}`).join(", ");
    return el("li", {class: shared.has(n.word) ? "shared" : "", title: "rank elsewhere — " + ranks},
      n.word, el("span", {class: "score", text: num(n.score)}));
  });
  return el("div", {class: "panel", "data-space": space.space}, el("h3", {text: space.space}), el("ol", {}, ...items));
}

const absentPanel = (name, word) => el("div", {class: "panel absent", "data-space": name},
  el("h3", {text: name}), el("p", {text: `has no “${word}”`}));

function drawOverlap(pairs) {
  const body = $("#overlap tbody");
  body.replaceChildren(...pairs.map((p) => el("tr", {}, el("td", {text: `${p.a} vs ${p.b}`}),
    el("td", {text: num(p.jaccard, 2)}), el("td", {text: num(p.rbo, 2)}), el("td", {text: p.shared.join(", ")}))));
  $("#overlap").hidden = pairs.length === 0;
}

// One picture per space, in the page's order; the words a space lacks are listed once, below.
// Returns the answer (its `absent` words, its `note`), or null, drawing nothing, when a newer
// question was asked meanwhile.
async function drawProjection(url, target, current, query = null) {
  const body = await api(url);
  if (!current()) return null;
  const panels = body.spaces.map((p) => {
    const basis = p.points.length ? ` PCA over ${p.basis === "words" ? "these words" : "frequent words"}` : "";
    const panel = el("div", {class: "panel", "data-space": p.space}, el("h3", {text: p.space}, el("span", {class: "note", text: basis})));
    if (!p.points.length) panel.append(el("p", {class: "muted", text: query ? `has no “${query}”` : "has none of these words"}));
    return panel;
  });
  $(target).replaceChildren(...panels);  // in the page first, so each picture is drawn at its panel's width
  body.spaces.forEach((p, i) => {
    if (!p.points.length) return;
    const asked = (pt) => query && pt.word === p.points[0].word;
    panels[i].append(scatter(p.points.map((pt) => ({x: pt.x, y: pt.y, label: pt.word,
      color: asked(pt) ? QUERY : colorOf(pt.word), bold: asked(pt)})), fit(panels[i], 420, 0.8)));
  });
  return body;
}

export async function plotWords(words) {
  const current = begin("plot");
  $("#plot-words").value = words;
  for (const id of ["#list-plot", "#plot-absent"]) $(id).replaceChildren();
  status("#plot-status", "projecting…");
  try {
    const drawn = await drawProjection(`/v1/compare/projection?words=${q(words)}`, "#list-plot", current);
    if (drawn === null) return;
    const absent = drawn.absent;
    const groups = new Map();  // the words lacking from the same spaces, listed together
    for (const [w, spaces] of Object.entries(absent)) groups.set(list(spaces), [...(groups.get(list(spaces)) || []), w]);
    const lines = [...groups].map(([spaces, words]) => `${words.join(", ")} (not in ${spaces})`);
    $("#plot-absent").textContent = lines.length ? "Not plotted: " + lines.join("; ") + "." : "";
    status("#plot-status", "Each space projects the words it has (PCA over those words); a word keeps its colour across panels." + said(drawn));
  } catch (e) {
    if (current()) status("#plot-status", e.message, true);
  }
}

export async function comparePairs(text) {
  const current = begin("pairs");
  $("#pairs").value = text;
  const table = $("#pairs-table");
  table.hidden = true;
  status("#pairs-status", "computing…");
  const pairs = text.split(/[\s,]+/).filter(Boolean).join(",");
  try {
    const body = await api(`/v1/compare/similarity?pairs=${q(pairs)}`);
    if (!current()) return;
    table.querySelector("thead").replaceChildren(el("tr", {}, el("th", {text: "pair"}), ...body.spaces.map((s) => el("th", {text: s}))));
    table.querySelector("tbody").replaceChildren(...body.results.map((r) => el("tr", {},
      el("td", {text: `${r.a} : ${r.b}`}), ...body.spaces.map((s) => similarityCell(r.scores[s], r.missing[s])))));
    table.hidden = false;
    status("#pairs-status", "Cosine similarity of the two words in each space (red: opposite, blue: alike).");
  } catch (e) {
    if (current()) status("#pairs-status", e.message, true);
  }
}

function similarityCell(score, missing) {
  if (score === null) return el("td", {class: "none", text: `– (no ${missing.join(", ")})`});
  const alpha = Math.min(1, Math.abs(score)).toFixed(2);
  const colour = score >= 0 ? `rgba(33, 102, 172, ${alpha})` : `rgba(178, 24, 43, ${alpha})`;
  return el("td", {text: num(score), style: `background: ${colour}; color: ${Math.abs(score) > 0.55 ? "#fff" : "#222"}`});
}

export async function compareAnalogy() {
  const current = begin("analogy");
  const [a, b, c, expected] = ["#a", "#b", "#c", "#expected"].map((id) => $(id).value.trim());
  $("#analogies").replaceChildren();
  status("#analogy-status", "searching…");
  const want = expected ? `&expected=${q(expected)}` : "";
  try {
    const body = await api(`/v1/compare/analogy?a=${q(a)}&b=${q(b)}&c=${q(c)}&k=5${want}`);
    if (!current()) return;
    for (const s of body.spaces) {
      const panel = el("div", {class: "panel", "data-space": s.space}, el("h3", {text: s.space}));
      if (!s.found) panel.append(el("p", {class: "muted", text: `has no ${list(s.missing)}`}));
      else {
        panel.append(el("ol", {}, ...s.answers.map((n) => el("li", {class: n.word === expected ? "shared" : ""},
          n.word, el("span", {class: "score", text: num(n.score)})))));
        if (expected) panel.append(el("p", {class: "note", text: s.expected_rank === null ? `no “${expected}” in this space` : `“${expected}” ranks #${s.expected_rank.toLocaleString()}`}));
      }
      $("#analogies").append(panel);
    }
    status("#analogy-status", `${a} : ${b} :: ${c} : ? (3CosAdd) in every space${expected ? `; bold: ${expected}` : ""}.${said(body)}`);
  } catch (e) {
    if (current()) status("#analogy-status", e.message, true);
  }
}

export async function compareSentences(sentences, spaces = null) {
  const current = begin("sentences");
  $("#sentences").value = sentences.join("\n");
  $("#heatmaps").replaceChildren();
  status("#sentence-status", "embedding…");
  try {
    const body = await post("/v1/compare/sentences", spaces ? {sentences, spaces} : {sentences});
    if (!current()) return;
    $("#heatmaps").append(...body.spaces.map((s) => heatmap(s, sentences)));
    status("#sentence-status", "Cosine similarity of the sentence vectors. Each matrix is coloured over its own range of cosines (printed under it), so its structure shows even when all cosines are high; compare spaces by the digits." + said(body));
  } catch (e) {
    if (current()) status("#sentence-status", e.message, true);
  }
}
