// The comparison page: the verdict first (loaded with the page), presets that put the telling
// questions to every space in one click, then the forms. Spaces are never named here: which
// ones a preset uses comes from each space's metadata.
"use strict";

import {$, api, el, image, num, status} from "./api.js";
import {PLACES, fit, scatter} from "./draw.js";
import {compareAnalogy, comparePairs, compareSentences, compareWord, page, plotWords} from "./compare.js";

// A task space: kind "task" and the task it was trained for in its metadata (built-in and
// imported models alike).
const isTask = (s) => s.kind === "task" && Boolean(s.details && s.details.task);

async function loadSpaces() {
  const body = await api("/v1/spaces");
  page.spaces = body.spaces;
  const names = body.spaces.map((s) => `${s.name} (${s.kind}${isTask(s) ? ": " + s.details.task : ""}, ${s.size.toLocaleString()} words)`);
  if (!names.length) return status("#spaces", "No space is loaded.");
  if (names.length <= 6) return status("#spaces", "Spaces: " + names.join(" · "));
  // Many spaces: one line, the list folded, so the verdict stays at the top of the page.
  $("#spaces").replaceChildren(el("details", {}, el("summary", {text: `${names.length} spaces`}), names.join(" · ")));
}

async function loadVerdict() {
  status("#verdict-status", "scoring…");
  const v = await api("/v1/compare/verdict");
  $("#verdict-sentence").textContent = v.sentence;
  const drawn = v.spaces.filter((s) => s.wordsim353.value !== null && s.probe);
  const baselines = [...new Map(drawn.map((s) => [s.task, s.baseline])).entries()];
  const unlabelled = [];
  const chart = scatter(drawn.map((s) => ({x: s.wordsim353.value, y: s.probe.value, label: s.space,
    color: PLACES[s.places], rank: s.places === "neither" ? 1 : 0, xlo: s.wordsim353.low, xhi: s.wordsim353.high, ylo: s.probe.low, yhi: s.probe.high,
    title: `${s.space}: WordSim353 ${num(s.wordsim353.value)}, ${s.task} probe ${num(s.probe.value)} (${s.places})`})),
  {...fit($("#verdict-chart"), 560, 0.62), axes: {x: "meaning: WordSim353 ρ →", y: "task: probe accuracy →"},
    lines: baselines.map(([task, y]) => ({y, label: `majority class${baselines.length > 1 ? " (" + task + ")" : ""}`})), unlabelled});
  const legend = el("p", {class: "legend"}, ...Object.entries(PLACES).map(([k, c]) =>
    el("span", {}, el("i", {style: `background: ${c}`}), k === "both" ? "leads on both" : k === "neither" ? "leads on neither" : k === "no task data" ? k : `leads on ${k}`)));
  const noData = v.spaces.filter((s) => s.trained_for && !s.probe).map((s) => s.space);
  const left = v.spaces.filter((s) => !drawn.includes(s) && !noData.includes(s.space)).map((s) => s.space);
  $("#verdict-chart").replaceChildren(chart, legend,
    unlabelled.length ? el("p", {class: "note", text: `Not labelled where dots crowd (hover a dot; the table has them all): ${unlabelled.join(", ")}.`}) : "",
    noData.length ? el("p", {class: "note", text: `Not drawn (task spaces without task data): ${noData.join(", ")}.`}) : "",
    left.length ? el("p", {class: "note", text: `Not drawn (no task score): ${left.join(", ")}.`}) : "");
  const rows = v.spaces.map((s) => el("tr", {"data-space": s.space},
    el("td", {}, el("i", {class: "dot", style: `background: ${PLACES[s.places]}`}), s.space,
      el("div", {class: "note", text: s.trained_for ? `${s.kind}: ${s.trained_for}` : s.kind})),
    el("td", {text: s.places}),
    el("td", {text: num(s.wordsim353.value), title: `95% ${num(s.wordsim353.low)} to ${num(s.wordsim353.high)}, ${s.wordsim353.n} pairs`}),
    el("td", {text: num(s.simlex999.value), title: `${s.simlex999.n} pairs`}),
    el("td", {title: s.probe ? `95% ${num(s.probe.low)} to ${num(s.probe.high)}, ${s.probe.n} held-out texts` : "no task score"},
      s.probe ? num(s.probe.value) : s.trained_for ? el("span", {class: "note", text: "no task data"}) : "–",
      s.probe && baselines.length > 1 ? el("div", {class: "note", text: `${s.task}; majority ${num(s.baseline)}`}) : null)));
  $("#verdict-table tbody").replaceChildren(...rows);
  $("#verdict-table").hidden = false;
  const task = baselines.length === 1 ? ` (${baselines[0][0]}; majority class ${num(baselines[0][1])})` : "";
  status("#verdict-status", `Meaning: Spearman ρ with human judgements on the ${v.vocabulary.toLocaleString()} words all spaces share; task: held-out accuracy of a linear probe on the task's texts${task}; bars and hover: 95% intervals. Scores rounded to 3 digits (the sentence to 2).`);
}

// The spaces of the seed's figure: the task spaces trained on the clickbait headlines (else
// every task space) and the word2vec spaces (else every space that is not task-trained).
function seedSpaces() {
  const task = page.spaces.filter(isTask);
  const clickbait = task.filter((s) => /clickbait/i.test(s.details.task));
  const meaning = page.spaces.filter((s) => s.kind === "word2vec");
  const chosen = [...(clickbait.length ? clickbait : task),
    ...(meaning.length ? meaning : page.spaces.filter((s) => !isTask(s)))];
  return chosen.slice(0, 8).map((s) => s.name);
}

const HEADLINES = ["Here are 21 healthy fall soups to stock your freezer",
  "Himalaya might miss 50% of its ice in eighty years",
  "Alps may lose 70% of snow by end of the century"];

const PRESETS = {
  seed: {label: "The seed's figure: three headlines", run: () => Promise.all([
    compareSentences(HEADLINES, seedSpaces()), comparePairs("himalaya:alps ice:snow soups:freezer")]),
  scroll: "#sentences-section"},
  polarity: {label: "Polarity: good, bad, terrible, great, boring", run: () => Promise.all([
    compareWord("good"), plotWords("good,bad,terrible,great,boring"),
    comparePairs("good:bad good:great bad:terrible great:terrible good:boring")]), scroll: "#pairs-section"},
  mountains: {label: "Mountains: alps, himalaya, andes, pyrenees", run: () => Promise.all([
    compareWord("himalaya"), plotWords("alps,himalaya,andes,pyrenees"),
    comparePairs("alps:himalaya alps:pyrenees andes:himalaya andes:pyrenees")]), scroll: "#neighbors-section"},
};

async function runPreset(name) {
  const preset = PRESETS[name];
  status("#preset-status", `running “${preset.label}”…`);
  await preset.run();
  status("#preset-status", `“${preset.label}”: answers below.`);
  $(preset.scroll).scrollIntoView({behavior: "smooth", block: "start"});
}

function loadCurve() {
  $("#curve").replaceChildren(image("/v1/compare/plot/learning-curve?format=svg", "learning curve",
    (code) => el("p", {class: "muted", text: code === 404 ? "No learning curve in this catalog yet: `wordspace experiment learning-curve` (or `wordspace build`) publishes one." : `learning curve: ${code}`})));
}

async function loadScorecard() {
  status("#scorecard-status", "computing (the first time takes a few seconds per space)…");
  try {
    const body = await api("/v1/compare/evaluation");
    const task = (e, f) => (e.task.computed ? f(e.task) : "–");
    const rows = [
      ["WordSim353 ρ", (e) => num(e.wordsim353.spearman)], ["SimLex-999 ρ", (e) => num(e.simlex999.spearman)],
      ["analogy 3CosAdd", (e) => num(e.analogy.methods["3cosadd"].overall.accuracy)],
      ["analogy 3CosMul", (e) => num(e.analogy.methods["3cosmul"].overall.accuracy)],
      ["probe accuracy", (e) => task(e, (t) => num(t.probe.accuracy))],
      ["neighbour purity", (e) => task(e, (t) => `${num(t.purity.purity)} (chance ${num(t.purity.chance, 2)})`)],
      ["mean cosine", (e) => num(e.geometry.mean_cosine)], ["hubness skew", (e) => num(e.geometry.hubness_skew, 2)],
      ["norm CV", (e) => num(e.geometry.norm_cv)],
    ];
    $("#scorecard thead").replaceChildren(el("tr", {}, el("th", {text: "score (own vocabulary)"}),
      ...body.spaces.map((e) => el("th", {text: e.space}))));
    $("#scorecard tbody").replaceChildren(...rows.map(([label, value]) =>
      el("tr", {}, el("td", {text: label}), ...body.spaces.map((e) => el("td", {text: value(e)})))));
    $("#scorecard").hidden = false;
    const few = el("p", {class: "note"});  // the spaces the picture left out, when it says so
    $("#scorecard-plots").replaceChildren(image("/v1/compare/plot/scorecard?format=svg", "scorecard bars", null, (r) => {
      const omitted = r.headers.get("Wordspace-Omitted-Spaces");
      if (omitted) few.textContent = `The bars show the spaces the verdict ranks first, to stay legible; left out: ${omitted} (the table above has every space).`;
    }), few);
    status("#scorecard-status", "");
  } catch (e) {
    status("#scorecard-status", e.message, true);
  }
}

function form(selector, run) {
  $(selector).addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    $("#presets").append(el("button", {type: "button", "data-preset": name, text: preset.label, onclick: () => runPreset(name)}));
  }
  form("#word-form", () => $("#word").value.trim() && compareWord($("#word").value.trim()));
  form("#plot-form", () => plotWords($("#plot-words").value));
  form("#pairs-form", () => comparePairs($("#pairs").value));
  form("#analogy-form", compareAnalogy);
  form("#sentence-form", () => compareSentences($("#sentences").value.split("\n").map((s) => s.trim()).filter(Boolean)));
  $("#scorecard-button").addEventListener("click", loadScorecard);
  try {
    await loadSpaces();
  } catch (e) {
    status("#spaces", e.message, true);
  }
  loadVerdict().catch((e) => status("#verdict-status", e.message, true));
  loadCurve();
});
