"""Summaries, ratios against the issue's goals, the printed table and its Markdown twin."""
from __future__ import annotations

import os
import statistics

GOALS = {  # issue 11; issue 19 for the proxy (nginx in front, `serve --proxy`)
    "by_word_over_healthz": 0.85,
    "proxy_by_word_over_direct": 0.6,
    "by_vector_over_by_word": 0.90,
    "batch_words_per_second": 50_000,
    "over_chroma": 2.0,
    "recall_at_10": 0.99,
    "round_spread": 0.10,
    "ready_seconds": 2.0,
}


def summarize(windows: list[dict], batch: int | None) -> dict:
    rps = [w["rps"] for w in windows]
    med = statistics.median(rps)
    out = {"rps": {"median": med, "min": min(rps), "max": max(rps), "rounds": rps},
           "spread": round((max(rps) - min(rps)) / med, 3) if med else None,
           "p50_ms": statistics.median(w["p50_ms"] for w in windows),
           "p99_ms": statistics.median(w["p99_ms"] for w in windows),
           "errors": sum(w["errors"] for w in windows),
           "server_cpu_ms_per_request": statistics.median(w["server_cpu_ms_per_request"] for w in windows),
           "server_cores": statistics.median(w["server_cores"] for w in windows),
           "client_cpu_cores": round(statistics.median(w["client_cpu"] / w["seconds"] for w in windows), 2),
           "other_cores": statistics.median(w["other_cores"] for w in windows)}
    if batch:
        words = [r * batch for r in rps]
        out["words_per_second"] = {"median": statistics.median(words), "min": min(words), "max": max(words)}
    return out


def build(args, manifest, windows, recalls, memory, ready, load, chroma_load_seconds) -> dict:
    results = {}
    for (name, workload), ws in windows.items():
        batch = int(workload.split("-")[1]) if workload.startswith("batch-") else None
        results[f"{name} {workload}"] = {"contender": name, "workload": workload,
                                         **summarize(ws, batch), "recall_at_10": recalls.get(f"{name} {workload}"),
                                         "windows": ws}
    med = {n: r["rps"]["median"] for n, r in results.items()}
    per_round = {n: r["rps"]["rounds"] for n, r in results.items()}

    def ratio(a, b):
        if a not in med or b not in med or not med[b]:
            return None
        return {"median": round(med[a] / med[b], 3),
                "rounds": [round(x / y, 3) for x, y in zip(per_round[a], per_round[b])]}

    batch_name = next((n for n in results if n.startswith("wordspace batch-")), None)
    workers = [p for p in memory["processes"] if p["role"] == "child"]
    ratios = {
        "by_word_over_healthz": ratio("wordspace by-word", "wordspace healthz"),
        "by_vector_over_by_word": ratio("wordspace by-vector", "wordspace by-word"),
        "by_vector_over_chroma": ratio("wordspace by-vector", "chroma by-vector"),
        "by_word_over_chroma": ratio("wordspace by-word", "chroma by-vector"),
        "by_word_over_gensim": ratio("wordspace by-word", "gensim by-word"),
        "proxy_by_word_over_direct": ratio("proxy by-word", "wordspace by-word"),
        "proxy_by_vector_over_chroma": ratio("proxy by-vector", "chroma by-vector"),
        "proxy_healthz_over_direct": ratio("proxy healthz", "wordspace healthz"),
        "proxy_by_vector_over_direct": ratio("proxy by-vector", "wordspace by-vector"),
        "rare_over_healthz": ratio("wordspace by-word-rare", "wordspace healthz"),
        "by_vector_over_rare": ratio("wordspace by-vector", "wordspace by-word-rare"),
        "batch_words_per_second": results[batch_name]["words_per_second"]["median"] if batch_name else None,
        "max_round_spread_wordspace": max((r["spread"] for n, r in results.items()
                                           if r["contender"] in ("wordspace", "proxy")
                                           and r["spread"] is not None),
                                          default=None),
    }
    return {
        "config": {k: (str(v) if not isinstance(v, (int, float, str, list, type(None))) else v)
                   for k, v in vars(args).items() if k != "settings"},
        "service_settings": {"workers": args.settings.workers, "threads": args.settings.threads},
        "index": {k: manifest.get(k) for k in ("factory", "search_params", "recall_at_10",
                                                "build_seconds", "rows", "dimension")},
        "results": results, "ratios": ratios, "goals": GOALS, "ready_seconds": ready,
        "chroma_load_seconds": chroma_load_seconds,
        "memory": {**memory, "worker_pss_mib": [p["pss_mib"] for p in workers],
                   "worker_rss_mib": [p["rss_mib"] for p in workers]},
        "machine": load,
    }


def _rows(out: dict) -> list[list[str]]:
    rows = []
    for name, r in out["results"].items():
        rps, rec = r["rps"], r["recall_at_10"] or {}
        wps = r.get("words_per_second")
        rows.append([r["contender"], r["workload"],
                     f"{rps['median']:,.0f} ({rps['min']:,.0f}–{rps['max']:,.0f})",
                     f"{wps['median']:,.0f}" if wps else "",
                     f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['server_cpu_ms_per_request']:.3f}",
                     f"{rec['held_out']:.4f}" if "held_out" in rec else "",
                     f"{rec['load_words']:.4f}" if "load_words" in rec else "", str(r["errors"])])
    return rows


HEADER = ["contender", "workload", "req/s median (min–max)", "words/s", "p50 ms", "p99 ms",
          "CPU ms/req", "recall@10 held-out", "recall@10 load words", "errors"]


def _goal_lines(out: dict) -> list[str]:
    r, g, ready = out["ratios"], out["goals"], out["ready_seconds"]["wordspace"]

    def mark(ok):
        return "met" if ok else "MISSED"

    lines = []
    for key, label in (("by_word_over_healthz", "by word / /healthz"),
                       ("by_vector_over_by_word", "by vector / by word"),
                       ("by_vector_over_chroma", "by vector / Chroma by vector"),
                       ("proxy_by_word_over_direct", "through the proxy: by word / direct by word"),
                       ("proxy_by_vector_over_chroma", "through the proxy: by vector / Chroma by vector")):
        goal = g["over_chroma"] if key.endswith("chroma") else g[key]
        if r.get(key):
            lines.append(f"{label}: {r[key]['median']:.2f} (rounds {r[key]['rounds']}; goal >= {goal}: "
                         f"{mark(r[key]['median'] >= goal)})")
    for key, label in (("proxy_healthz_over_direct", "through the proxy: /healthz / direct /healthz"),
                       ("proxy_by_vector_over_direct", "through the proxy: by vector / direct by vector")):
        if r.get(key):
            lines.append(f"{label}: {r[key]['median']:.2f} (rounds {r[key]['rounds']})")
    for key, label in (("rare_over_healthz", "by word past the stored table / /healthz"),
                       ("by_vector_over_rare", "by vector / by word past the stored table")):
        if r.get(key):
            lines.append(f"{label}: {r[key]['median']:.2f} (rounds {r[key]['rounds']}; "
                         "both index searches)" if "vector" in key else
                         f"{label}: {r[key]['median']:.2f} (rounds {r[key]['rounds']})")
    if r["by_word_over_gensim"]:
        lines.append(f"by word / gensim by word: {r['by_word_over_gensim']['median']:.1f}")
    if r["batch_words_per_second"]:
        lines.append(f"batch: {r['batch_words_per_second']:,.0f} words/s (goal >= "
                     f"{g['batch_words_per_second']:,}: {mark(r['batch_words_per_second'] >= g['batch_words_per_second'])})")
    rec = out["results"]["wordspace by-word"]["recall_at_10"]["held_out"]
    lines.append(f"recall@10 by word, held-out rows: {rec} (goal >= {g['recall_at_10']}: "
                 f"{mark(rec >= g['recall_at_10'])})")
    chroma = out["results"].get("chroma by-vector")
    if chroma:
        theirs = chroma["recall_at_10"]["held_out"]
        for name in ("wordspace", "proxy"):
            if f"{name} by-vector" in out["results"]:
                ours = out["results"][f"{name} by-vector"]["recall_at_10"]["held_out"]
                lines.append(f"recall@10 by vector, {name} {ours} vs Chroma {theirs} "
                             f"(equal or better: {mark(ours >= theirs)})")
    spread = r["max_round_spread_wordspace"]
    if spread is not None:
        lines.append(f"largest spread of wordspace's rounds (max-min)/median: {spread:.1%} "
                     f"(goal <= {g['round_spread']:.0%}: {mark(spread <= g['round_spread'])})")
    lines.append(f"ready: {ready:.2f}s (goal < {g['ready_seconds']:.0f}s: {mark(ready < g['ready_seconds'])}); "
                 f"memory per worker (PSS MiB): {out['memory']['worker_pss_mib']}, "
                 f"whole server {out['memory']['pss_total_mib']} MiB")
    if "proxy" in out["memory"]:
        proxy = out["memory"]["proxy"]
        lines.append(f"proxy: ready {out['ready_seconds']['proxy']:.2f}s; whole stack (supervisor, nginx, "
                     f"gunicorn) PSS {proxy['pss_total_mib']} MiB in {len(proxy['processes'])} processes")
    return lines


def _context(out: dict) -> str:
    c, m, ix = out["config"], out["machine"], out["index"]
    loads = [x["loadavg"][0] for x in m["rounds"]]
    return (f"GloVe 400k x 50, k=10, {ix['factory']} {ix['search_params']}; wordspace "
            f"{out['service_settings']['workers']} workers x {out['service_settings']['threads']} threads "
            f"(wordspace: gunicorn alone; proxy: nginx in front, `serve --proxy`); "
            f"wrk {c['connections']} connections, {c['wrk_threads']} thread; {c['rounds']} interleaved "
            f"rounds of {c['duration']:g}s; {os.cpu_count()} cores; 1-min load at each round {loads}")


def show(out: dict) -> None:
    rows = [HEADER] + _rows(out)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    print("\n" + _context(out))
    for r in rows:
        print("  ".join(cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))))
    for line in _goal_lines(out):
        print(line)
    if max(r["other_cores"] for r in out["results"].values()) > 0.2:
        print("note: other processes used CPU during some windows; read the ratios, not the absolutes")


def markdown(out: dict) -> str:
    lines = [_context(out), "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(out)]
    lines += [""] + [f"- {line}" for line in _goal_lines(out)]
    return "\n".join(lines) + "\n"
