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

// A space the user added: the build records whether a space's spec entry is the default
// spec's (details.built_in); a space built before it did is marked neither way.
const isMine = (s) => Boolean(s && s.details && s.details.built_in === false);

async function loadSpaces() {
  const body = await api("/v1/spaces");
  page.spaces = body.spaces;
  const names = body.spaces.map((s) => `${s.name} (${isMine(s) ? "yours, " : ""}${s.kind}${isTask(s) ? ": " + s.details.task : ""}, ${s.size.toLocaleString()} words)`);
  if (!names.length) return status("#spaces", "No space is loaded.");
  if (names.length <= 6) return status("#spaces", "Spaces: " + names.join(" · "));
  // Many spaces: one line, the list folded, so the verdict stays at the top of the page.
  const mine = body.spaces.filter(isMine).length;
  $("#spaces").replaceChildren(el("details", {}, el("summary", {text: `${names.length} spaces` + (mine ? ` (${mine} yours)` : "")}), names.join(" · ")));
}

const MEANING = {"by meaning": "by meaning", "not by meaning": "not by meaning", undetermined: "undetermined", "not enough pairs": "too few pairs"};

// One chart per task: meaning (WordSim353 ρ on the space's own pairs) across, that task's
// probe accuracy up, its majority-class share as a named line; the user's spaces hollow.
function taskChart(v, task, mine, box) {
  const probeOf = (s) => s.probes.find((p) => p.task === task);
  const judged = (s) => s.wordsim353.value !== null && s.meaning !== "not enough pairs";
  const drawn = v.spaces.filter((s) => judged(s) && probeOf(s));
  const baseline = drawn.length ? probeOf(drawn[0]).baseline : null;
  const unlabelled = [];
  const lines = baseline === null ? [] : [{y: baseline, label: `majority ${num(baseline, 2)}`}];
  const chart = scatter(drawn.map((s) => {
    const p = probeOf(s);
    return {x: s.wordsim353.value, y: p.accuracy.value, label: s.space, color: PLACES[s.places], hollow: mine.has(s.space),
      rank: s.places === "neither" || s.places === "undetermined" ? 1 : 0,
      xlo: s.wordsim353.low, xhi: s.wordsim353.high, ylo: p.accuracy.low, yhi: p.accuracy.high,
      title: `${s.space}${mine.has(s.space) ? " (yours)" : ""}: WordSim353 ${num(s.wordsim353.value)} on ${s.wordsim353.n} pairs (${s.meaning}), ${task} probe ${num(p.accuracy.value)} (${s.places})`};
  }), {...fit(box, 600, 0.62), axes: {x: "meaning: WordSim353 ρ →", y: `${task}: probe accuracy →`}, lines, unlabelled});
  const noData = v.spaces.filter((s) => s.trained_for && !probeOf(s) && !s.probes.some((p) => p.task === s.trained_for)).map((s) => s.space);
  const few = v.spaces.filter((s) => !judged(s) && probeOf(s)).map((s) => s.space);
  const left = v.spaces.filter((s) => !drawn.includes(s) && !noData.includes(s.space) && !few.includes(s.space)).map((s) => s.space);
  box.append(el("h3", {class: "sub", text: `Task: ${task}`}), chart,
    lines.some((l) => l.unnamed) ? el("p", {class: "note", text: `Dashed line: the majority class (${num(baseline, 2)}).`}) : "",
    unlabelled.length ? el("p", {class: "note", text: `Not labelled where dots crowd (hover a dot; the table has them all): ${unlabelled.join(", ")}.`}) : "",
    few.length ? el("p", {class: "note", text: `Not drawn (too few WordSim353 pairs to judge): ${few.join(", ")}.`}) : "",
    noData.length ? el("p", {class: "note", text: `Not drawn (task spaces without task data): ${noData.join(", ")}.`}) : "",
    left.length ? el("p", {class: "note", text: `Not drawn (not probed on ${task}): ${left.join(", ")}.`}) : "");
}

async function loadVerdict() {
  status("#verdict-status", "scoring…");
  const v = await api("/v1/compare/verdict");
  $("#verdict-sentence").textContent = v.sentence;
  const mine = new Set(page.spaces.filter(isMine).map((s) => s.name));
  const tasks = Object.keys(v.task);
  const legend = el("p", {class: "legend"}, ...Object.entries(PLACES).map(([k, c]) =>
    el("span", {}, el("i", {style: `background: ${c}`}), k === "both" ? "by meaning and by a task" : k === "meaning" ? "by meaning" : k === "task" ? "by a task" : k)),
    mine.size ? el("span", {}, el("i", {class: "mine"}), "your space (not built in)") : "",
    el("span", {text: "dashed: the task's majority class"}));
  const charts = el("div", {class: "charts"});
  $("#verdict-chart").replaceChildren(charts, legend);
  for (const task of tasks) {
    const box = el("div", {class: "chart-box", "data-task": task});
    charts.append(box);  // in the page first, so the chart is drawn at its own width
    taskChart(v, task, mine, box);
  }
  const baselines = Object.fromEntries(tasks.map((t) => [t, v.spaces.flatMap((s) => s.probes).find((p) => p.task === t)?.baseline]));
  $("#verdict-table thead").replaceChildren(el("tr", {}, el("th", {text: "space"}), el("th", {text: "places words"}),
    el("th", {text: "WordSim353 ρ (pairs)"}), el("th", {text: "SimLex-999 ρ"}),
    ...tasks.map((t) => el("th", {text: `${t} probe`, title: `held-out accuracy; majority class ${num(baselines[t])}`}))));
  const rows = v.spaces.map((s) => el("tr", {"data-space": s.space, class: mine.has(s.space) ? "mine" : null},
    el("td", {}, el("i", {class: mine.has(s.space) ? "dot mine" : "dot", style: mine.has(s.space) ? `border-color: ${PLACES[s.places]}` : `background: ${PLACES[s.places]}`}), s.space,
      mine.has(s.space) ? el("span", {class: "tag", text: "yours"}) : null,
      el("div", {class: "note", text: s.trained_for ? `${s.kind}: ${s.trained_for}` : s.kind})),
    el("td", {}, s.places, el("div", {class: "note", text: s.beaten_by ? `${MEANING[s.meaning]}; ${s.beaten_by.by} beats it by ${num(s.beaten_by.difference.value, 2)}` : MEANING[s.meaning]})),
    el("td", {text: `${num(s.wordsim353.value)} (${s.wordsim353.n})`, title: `95% ${num(s.wordsim353.low)} to ${num(s.wordsim353.high)}, ${s.wordsim353.n} pairs the space covers`}),
    el("td", {text: num(s.simlex999.value), title: `${s.simlex999.n} pairs`}),
    ...tasks.map((t) => {
      const p = s.probes.find((q) => q.task === t);
      if (!p) return el("td", {class: "none", title: "not probed on this task"}, s.trained_for === t ? el("span", {class: "note", text: "no task data"}) : "–");
      return el("td", {class: p.leads ? "lead" : null, text: num(p.accuracy.value), title: `95% ${num(p.accuracy.low)} to ${num(p.accuracy.high)}, ${p.accuracy.n} held-out texts; majority ${num(p.baseline)}${p.reference ? `; bag of words ${num(p.reference.accuracy)} [${num(p.reference.low)}, ${num(p.reference.high)}]` : ""}; ${p.status}`});
    })));
  $("#verdict-table tbody").replaceChildren(...rows);
  $("#verdict-table").hidden = false;
  status("#verdict-status", `Meaning: Spearman ρ with human judgements on the WordSim353 pairs each space covers itself; by meaning when its 95% interval's lower end is at least ${num(v.rule.bar, 2)}, not when its upper end is below it (${v.rule.min_pairs} pairs at least). Task: held-out accuracy of a linear probe on each task's texts, the same pooling for every space; bold: by the task (its interval's lower end clears that of the same probe on a bag of words of the task's texts). Bars and hover: 95% intervals. Scores rounded to 3 digits (the sentence to 2).`);
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
