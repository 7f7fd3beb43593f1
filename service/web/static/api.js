// Talking to the service and building DOM: fetch with the API key when one is needed, problems
// as errors that keep their body, element helpers, and the one number format of the page.
// Every text from the API goes through textContent, never innerHTML.
"use strict";

export const $ = (selector) => document.querySelector(selector);

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export const el = (tag, attrs = {}, ...children) => fill(document.createElement(tag), attrs, children);
export const svg = (tag, attrs = {}, ...children) =>
  fill(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);

// With WORDSPACE_API_KEYS set, /v1 answers 401 until the page sends a key: ask for it once
// and keep it for this tab only.
const KEY = "wordspace-api-key";

// A heavy route that is busy (503 with Retry-After: the worker runs as many pictures,
// scorecards or exports as it may) is asked again after the seconds it names, a few times.
const BUSY_RETRIES = 5;

export async function authorized(url, options = {}) {
  for (let attempt = 0, busy = 0; attempt < 2; attempt++) {
    const key = sessionStorage.getItem(KEY);
    const headers = {...(options.headers || {}), ...(key ? {Authorization: `Bearer ${key}`} : {})};
    const response = await fetch(url, {...options, headers});
    const wait = response.status === 503 && Number(response.headers.get("Retry-After"));
    if (wait && busy++ < BUSY_RETRIES) {
      await new Promise((done) => setTimeout(done, 1000 * wait));
      attempt--;
      continue;
    }
    if (response.status !== 401 || attempt > 0) return response;
    const given = window.prompt("This service needs an API key:");
    if (!given) return response;
    sessionStorage.setItem(KEY, given.trim());
  }
}

// An answer that is not 2xx: the problem+json body stays on the error (suggestions, ...).
export class Problem extends Error {
  constructor(body, status) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.body = body;
    this.status = status;
  }
}

export async function api(url, options) {
  const response = await authorized(url, options);
  const body = await response.json();
  if (!response.ok) throw new Problem(body, response.status);
  return body;
}

export const post = (url, body) => api(url, {method: "POST",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});

// An <img> cannot send the key: fetch the picture, then show it from a blob URL.
// `missing(status)` gives what to show instead when the service has no such picture;
// `shown(response)` is called once it is shown (to read its headers).
export function image(url, alt, missing, shown) {
  const node = el("img", {alt});
  authorized(url).then(async (response) => {
    if (response.ok) {
      node.src = URL.createObjectURL(await response.blob());
      if (shown) shown(response);
    }
    else node.replaceWith(missing ? missing(response.status) : el("p", {class: "error", text: `${alt}: ${response.status}`}));
  });
  return node;
}

export function status(selector, text, isError = false) {
  const node = $(selector);
  node.textContent = text;
  node.className = isError ? "status error" : "status muted";
  return node;
}

// Scores on the page: `digits` decimals (3 unless said), never "-0.000".
export function num(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const text = Number(value).toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

export const list = (words) => words.length <= 1 ? words.join("") :
  words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
