// Pictures drawn in the browser as SVG: the verdict chart, a space's 2-D projection, and a
// sentence matrix. SVGs scale to their container (viewBox), so they stay legible at 390 px.
"use strict";

import {el, num, svg} from "./api.js";

// One colour per word for the whole page, in order of first appearance (Tableau 10 without
// its red, which marks the word asked about).
export const QUERY = "#d62728";
const PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
  "#7f7f7f", "#bcbd22"];
const wordColors = new Map();
export function colorOf(word) {
  if (!wordColors.has(word)) wordColors.set(word, PALETTE[wordColors.size % PALETTE.length]);
  return wordColors.get(word);
}

export const PLACES = {meaning: "#1f77b4", task: "#d95f02", both: "#7570b3", neither: "#999999",
  "no task data": "#cccccc"};

// Label widths measured with the font the chart draws them in (12 px, the page's family),
// so labels placed apart stay apart on the screen; LINE px between label baselines.
const LINE = 14;
let measure = null;
export function textWidth(text, size = 12) {
  measure = measure || document.createElement("canvas").getContext("2d");
  measure.font = `${size}px ${getComputedStyle(document.body).fontFamily}`;
  return Math.ceil(measure.measureText(text).width) + 2;
}

// Each label beside its dot: right, else left, else a line further up or down, whichever
// first overlaps no label placed before it nor an obstacle (a line's name; labels are placed
// by `rank`, lowest first, then top to bottom). With `hide`, a label covers no other dot
// either, and a label that finds no free place is left out (item.hidden) instead of drawn
// over another.
function placeLabels(items, width, height, hide = false, obstacles = [], left = 4, right = width - 4, top = 12, bottom = height - 2) {
  const placed = [...obstacles];
  const box = (it) => ({l: it.anchor === "end" ? it.lx - it.w : it.lx, r: it.anchor === "end" ? it.lx : it.lx + it.w, y: it.ly});
  const clash = (a, b) => Math.abs(a.y - b.y) < LINE && a.l < b.r && b.l < a.r;
  const dot = (d) => ({l: d.px - 5, r: d.px + 5, y: d.py + 4});  // a dot, as a label's box
  for (const item of [...items].sort((a, b) => (a.rank || 0) - (b.rank || 0) || a.py - b.py)) {
    item.w = textWidth(item.label);
    const sides = item.px + 6 + item.w > right ? ["end"] : item.px - 6 - item.w < left ? ["start"] : ["start", "end"];
    const tries = [0, -LINE, LINE, -2 * LINE, 2 * LINE, -3 * LINE, 3 * LINE].filter((dy) => item.py + 4 + dy > top && item.py + 4 + dy < bottom)
      .flatMap((dy) => sides.map((anchor) => ({anchor, dy})));
    let free = false;
    for (const {anchor, dy} of tries) {
      Object.assign(item, {anchor, lx: anchor === "end" ? item.px - 6 : item.px + 6, ly: item.py + 4 + dy});
      if ((free = !placed.some((o) => clash(o.l === undefined ? box(o) : o, box(item))) && !(hide && items.some((d) => d !== item && clash(dot(d), box(item)))))) break;
    }
    if (hide && !free) {
      item.hidden = true;
      continue;
    }
    if (item.ly !== item.py + 4) item.leader = true;
    placed.push(item);
  }
}

// Where a horizontal line's name goes: above the line at its right end, else at its left
// end, else further along it, then below it: the first place that covers no dot and no
// other line's name. Returns {x, y, anchor, box}, or null when every place is covered (the
// chart's note then names the line instead).
function placeLineLabel(label, y, left, right, dots, taken) {
  const w = textWidth(label, 10);
  const clash = (a, b) => Math.abs(a.y - b.y) < LINE && a.l < b.r && b.l < a.r;
  const dotBox = (d) => ({l: d.px - 6, r: d.px + 6, y: d.py + 4});
  const starts = [right - 2 - w, left + 2];
  for (let x = right - 2 - w - 10; x > left + 2; x -= 10) starts.push(x);
  for (const dy of [-3, 11]) {
    for (const l of starts) {
      const box = {l, r: l + w, y: y + dy};
      if (!dots.some((d) => clash(dotBox(d), box)) && !taken.some((o) => clash(o, box))) {
        return {x: l, y: y + dy, anchor: "start", box};
      }
    }
  }
  return null;
}

// The drawing size for a container: its own width in CSS pixels (so text is drawn at its
// nominal size on a phone too), within [300, max].
export function fit(container, max, ratio) {
  const width = Math.round(Math.max(300, Math.min(max, container.clientWidth || max)));
  return {width, height: Math.round(width * ratio)};
}

// points: {x, y, label, color, title, bold, hollow, rank, xlo, xhi, ylo, yhi}; axes: {x, y}
// titles, or none; lines: {y, label}, each named where its name covers no dot (a line that
// finds no such place gets `unnamed = true`). `unlabelled`: an array to receive the labels
// left out where dots crowd (else every label is drawn, overlapping if it must).
export function scatter(points, {width = 520, height = 330, axes = null, xRange, yRange, lines = [], unlabelled = null} = {}) {
  const pad = axes ? {l: 46, r: 12, t: 10, b: 38} : {l: 10, r: 10, t: 10, b: 10};
  const extent = (key, lo, hi, given, extra = []) => {
    if (given) return given;
    const values = [...points.flatMap((p) => [p[key], p[lo], p[hi]]), ...extra].filter((v) => v !== undefined && v !== null);
    let [a, b] = [Math.min(...values), Math.max(...values)];
    if (a === b) [a, b] = [a - 1, b + 1];
    const m = (b - a) * 0.08;
    return [a - m, b + m];
  };
  const [x0, x1] = extent("x", "xlo", "xhi", xRange);
  const [y0, y1] = extent("y", "ylo", "yhi", yRange, lines.map((line) => line.y));
  const px = (x) => pad.l + (x - x0) / (x1 - x0) * (width - pad.l - pad.r);
  const py = (y) => height - pad.b - (y - y0) / (y1 - y0) * (height - pad.t - pad.b);
  const root = svg("svg", {viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img"});
  if (axes) {
    root.append(svg("rect", {x: pad.l, y: pad.t, width: width - pad.l - pad.r,
      height: height - pad.t - pad.b, class: "frame"}));
    for (const t of ticks(x0, x1)) {
      root.append(svg("line", {x1: px(t), x2: px(t), y1: pad.t, y2: height - pad.b, class: "grid"}),
        svg("text", {x: px(t), y: height - pad.b + 13, class: "tick", "text-anchor": "middle", text: num(t, 1)}));
    }
    for (const t of ticks(y0, y1)) {
      root.append(svg("line", {x1: pad.l, x2: width - pad.r, y1: py(t), y2: py(t), class: "grid"}),
        svg("text", {x: pad.l - 4, y: py(t) + 4, class: "tick", "text-anchor": "end", text: num(t, 1)}));
    }
    root.append(svg("text", {x: (pad.l + width - pad.r) / 2, y: height - 4, class: "axis",
      "text-anchor": "middle", text: axes.x}));
    root.append(svg("text", {x: 12, y: (pad.t + height - pad.b) / 2, class: "axis", "text-anchor": "middle",
      transform: `rotate(-90 12 ${(pad.t + height - pad.b) / 2})`, text: axes.y}));
  }
  const items = points.map((p) => ({...p, px: px(p.x), py: py(p.y)}));
  const named = [];
  for (const line of lines) {
    root.append(svg("line", {x1: pad.l, x2: width - pad.r, y1: py(line.y), y2: py(line.y), class: "baseline"}));
    const at = placeLineLabel(line.label, py(line.y), pad.l, width - pad.r, items, named);
    line.unnamed = !at;
    if (!at) continue;
    named.push(at.box);
    root.append(svg("text", {x: at.x, y: at.y, class: "tick line-label", "text-anchor": at.anchor, text: line.label}));
  }
  placeLabels(items, width, height, unlabelled !== null, named, pad.l + 2, width - pad.r - 2, pad.t + 11, height - pad.b - 3);
  if (unlabelled) unlabelled.push(...items.filter((p) => p.hidden).map((p) => p.label));
  for (const p of items) {
    const g = svg("g", {class: "point"}, svg("title", {text: p.title || p.label}));
    if (p.xlo !== undefined && p.xlo !== null) g.append(svg("line", {x1: px(p.xlo), x2: px(p.xhi), y1: p.py, y2: p.py, stroke: p.color, class: "whisker"}));
    if (p.ylo !== undefined && p.ylo !== null) g.append(svg("line", {x1: p.px, x2: p.px, y1: py(p.ylo), y2: py(p.yhi), stroke: p.color, class: "whisker"}));
    if (p.leader) g.append(svg("line", {x1: p.px, y1: p.py, x2: p.lx, y2: p.ly - 4, stroke: p.color, class: "leader"}));
    g.append(p.hollow ? svg("circle", {cx: p.px, cy: p.py, r: 4, fill: "#fff", stroke: p.color, "stroke-width": 2, class: "mine"})
      : svg("circle", {cx: p.px, cy: p.py, r: p.bold ? 5 : 4, fill: p.color}));
    if (!p.hidden) g.append(svg("text", {x: p.lx, y: p.ly, fill: p.color, "text-anchor": p.anchor,
      class: p.bold ? "label bold" : "label", text: p.label}));
    root.append(g);
  }
  return root;
}

function ticks(lo, hi) {
  const step = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5].find((s) => (hi - lo) / s <= 6) || 10;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Math.round(t * 1000) / 1000);
  return out;
}

// A sentence matrix, labelled by the sentences (numbers in the header, the text beside each
// row, the whole sentence on hover). Colour: this matrix's own range of off-diagonal cosines,
// lightest at its lowest, darkest at its highest, so structure shows when every cosine is high.
export function heatmap(space, sentences) {
  const off = space.similarity.flatMap((row, i) => row.filter((v, j) => i !== j && v !== null));
  const [lo, hi] = off.length ? [Math.min(...off), Math.max(...off)] : [0, 1];
  const table = el("table", {class: "heatmap"});
  table.append(el("tr", {}, el("th"), ...sentences.map((s, j) => el("th", {title: s, text: String(j + 1)}))));
  space.similarity.forEach((row, i) => {
    const cells = row.map((v, j) => {
      if (v === null) return el("td", {class: "none", text: "–", title: "no word of this sentence is in the space"});
      if (i === j) return el("td", {class: "self", text: num(v, 2)});
      const shade = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      return el("td", {text: num(v, 2), title: `${sentences[i]}\n${sentences[j]}\ncosine ${num(v, 4)}`,
        style: `background: rgba(33, 102, 172, ${(0.08 + 0.87 * shade).toFixed(3)}); color: ${shade > 0.55 ? "#fff" : "#222"}`});
    });
    table.append(el("tr", {}, el("th", {class: "sentence", title: sentences[i], text: `${i + 1}. ${sentences[i]}`}), ...cells));
  });
  const lost = space.missing.map((m, i) => (m.length ? `${i + 1}: ${m.join(" ")}` : "")).filter(Boolean);
  return el("div", {class: "panel", "data-space": space.space}, el("h3", {text: space.space}),
    el("div", {class: "scroll"}, table),
    el("p", {class: "note", text: !off.length ? "no pair to compare" : hi > lo ?
      `colour: ${num(lo, 2)} (lightest) to ${num(hi, 2)} (darkest), this matrix's own range` : "one value: no colour scale"}),
    el("p", {class: "note", text: lost.length ? "not in the space — " + lost.join("; ") : "every token found"}));
}
