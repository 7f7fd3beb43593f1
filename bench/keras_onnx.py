"""What a Keras model's own sentence vectors cost (docs/keras-models.md, issue 28): the keras.io
tutorial model at its own sizes (20,000 tokens, 128 dimensions, sequences of 500, Conv1D x2,
GlobalMaxPooling1D), served through its ONNX sub-model, against the same model with a
GlobalAveragePooling1D instead of the Conv1D stack, served by numpy pooling.

    python bench/keras_onnx.py [--out /tmp/keras-onnx] [--rounds 5] [--requests 40] [--port 8400]
    python bench/keras_onnx.py --skip-build            # measure the catalog already in --out
    python bench/keras_onnx.py --arena-only MODEL_DIR   # ONNX Runtime's memory arena, on and off

It trains both models for one epoch on 2,000 vendored headlines (their vectors' quality is no
part of the cost), adds each with `wordspace build-index` (timed: the build's export and
parity check is `details.sentence_vectors.parity.seconds`), serves the catalog under gunicorn
(`wordspace serve`, the default 2 workers x 4 threads), and measures over HTTP, in interleaved
rounds (the order alternating), the p50 of `embed` with one text and with 100 texts in one
request, for each space. Memory: each worker's RSS and PSS (/proc/PID/smaps_rollup) after the
numpy space has answered a warm-up (20 one-text and 5 hundred-text requests), then after the
ONNX space has answered the same: the difference is what a worker adds for an ONNX space (one
keep-alive connection: one worker answers them all). The arena mode runs the ONNX sub-model
in a fresh process with ONNX Runtime's CPU memory arena on and off, texts run 8 at a time (as
served) or all at once, on one workload (200 one-text calls, 20 of 100 texts, one of 1,024),
twice each, and reports the process's RSS and PSS growth; and once more with the weights
inside the .onnx file (as the exporter writes them) instead of apart, for what a session
itself costs (`session_pss_mib`).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server import children, serve, wait_for_workers  # noqa: E402
from service.builder.task_data import CLICKBAIT_DIR, load_clickbait  # noqa: E402

MAX_TOKENS, DIM, LENGTH = 20000, 128, 500


def headlines(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n of the vendored clickbait headlines and their labels, in a seeded order."""
    data = load_clickbait(CLICKBAIT_DIR)
    rows = np.random.default_rng(seed).permutation(len(data))[:n]
    return [data.texts[i] for i in rows], data.labels[rows].astype("int64")


def train(folder: Path, texts, labels, conv: bool) -> Path:
    """keras.io's model (conv) or the same with mean pooling, one epoch."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    vectorize = layers.TextVectorization(max_tokens=MAX_TOKENS, output_sequence_length=LENGTH)
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = layers.Embedding(MAX_TOKENS, DIM)(vectorize(inputs))
    x = layers.Dropout(0.5)(x)
    if conv:
        x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
        x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
        x = layers.GlobalMaxPooling1D()(x)
    else:
        x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    import tensorflow as tf

    model.fit(tf.constant([[t] for t in texts]), np.asarray(labels), epochs=1, batch_size=32, verbose=0)
    path = folder / ("tutorial.keras" if conv else "mean.keras")
    model.save(path)
    return path


def build(out: Path) -> dict:
    texts, labels = headlines(2000)
    cat = out / "cat"
    facts = {}
    for name, conv in (("tutorial", True), ("mean", False)):
        path = out / f"{name}.keras"
        if not path.exists():
            train(out, texts, labels, conv)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "service.cli", "build-index", name, "--from",
                        f"keras:{path}", "--catalog", str(cat), "--force"], check=True,
                       stdout=subprocess.DEVNULL)
        manifest = _manifest(cat, name)
        facts[name] = {"build_index_seconds": round(time.perf_counter() - started, 1),
                       "sentence_vectors": manifest["details"]["sentence_vectors"]}
    return facts


def _manifest(cat: Path, name: str) -> dict:
    from service.store import catalog

    return catalog.read_manifest(catalog.resolve(cat, name))


def memory(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    return {"rss_mib": round(fields["Rss"] / 1024, 1), "pss_mib": round(fields["Pss"] / 1024, 1)}


def timed(session, url: str, body: dict) -> float:
    started = time.perf_counter()
    r = session.post(url, json=body, timeout=60)
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    return elapsed * 1000


def measure(out: Path, rounds: int, n: int, port: int) -> dict:
    texts, _ = headlines(3000, seed=1)
    one = [[t] for t in texts[:n]]
    hundred = [texts[i * 100:(i + 1) * 100] for i in range(max(1, n // 4))]
    results = {s: {"one": [], "hundred": []} for s in ("tutorial", "mean")}
    with serve(out / "cat", ready="/readyz", port=port) as server:
        workers = wait_for_workers(server.proc.pid, 2)
        http = requests.Session()
        url = {s: server.url(f"/v1/spaces/{s}/embed") for s in results}
        # The same warm-up for each (one-text and 100-text requests), numpy first: what the
        # ONNX space adds is the difference between the two snapshots.
        for s in ("mean", "tutorial"):
            for body in one[:20] + hundred[:5]:
                timed(http, url[s], {"texts": body})
            snapshot = {pid: memory(pid) for pid in workers}
            after_numpy = snapshot if s == "mean" else after_numpy
        after_onnx = snapshot
        for r in range(rounds):
            order = ("tutorial", "mean") if r % 2 == 0 else ("mean", "tutorial")
            for s in order:
                results[s]["one"].append(statistics.median(timed(http, url[s], {"texts": b}) for b in one))
                results[s]["hundred"].append(statistics.median(
                    timed(http, url[s], {"texts": b}) for b in hundred))
        after_rounds = {pid: memory(pid) for pid in workers}
        master = memory(server.proc.pid)
        used = [pid for pid in workers if after_onnx[pid]["rss_mib"] != after_numpy[pid]["rss_mib"]]
    summary = {s: {k: {"p50_ms_median_of_rounds": round(statistics.median(v), 2),
                       "rounds": [round(x, 2) for x in v]} for k, v in d.items()}
               for s, d in results.items()}
    summary["ratio_one_text"] = round(statistics.median(
        a / b for a, b in zip(results["tutorial"]["one"], results["mean"]["one"])), 2)
    summary["ratio_hundred_texts"] = round(statistics.median(
        a / b for a, b in zip(results["tutorial"]["hundred"], results["mean"]["hundred"])), 2)
    summary["memory"] = {"master": master, "workers_after_numpy": after_numpy,
                         "workers_after_onnx": after_onnx, "workers_after_rounds": after_rounds,
                         "workers_that_ran_onnx": used,
                         "added_per_worker_mib": {
                             pid: {k: round(after_onnx[pid][k] - after_numpy[pid][k], 1)
                                   for k in ("rss_mib", "pss_mib")} for pid in workers}}
    summary["load_average"] = os.getloadavg()
    return summary


ARENA_SCRIPT = r'''
import json, os, sys
import numpy as np
from pathlib import Path
def mem():
    f = dict((l.split(":")[0], int(l.split(":")[1].split()[0]))
             for l in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:])
    return f["Rss"] / 1024, f["Pss"] / 1024
import onnxruntime as ort
from service.store import onnx_sentences
onnx_sentences.ARENA = sys.argv[2] == "on"
onnx_sentences.CHUNK = int(sys.argv[3])
config = json.loads(Path(sys.argv[1], "embed.json").read_text())
path = Path(sys.argv[1]) / config["model"]["file"]
if sys.argv[4] == "inline":  # the weights inside the .onnx file, as the exporter writes them
    import onnx
    inline = Path(sys.argv[5]) / "inline.onnx"
    onnx.save_model(onnx.load(str(path)), str(inline))
    path = inline
before = mem()
model = onnx_sentences.SentenceModel(path, config)
model.session()
session = mem()
words = [w for w in config["model"]["vocabulary"][2:5000]]
rng = np.random.default_rng(0)
texts = [" ".join(rng.choice(words, rng.integers(3, 40))) for _ in range(2048)]
for i in range(200):
    model.embed(texts[i:i + 1])
for i in range(20):
    model.embed(texts[i * 100:(i + 1) * 100])
model.embed(texts[:1024])
after = mem()
print(json.dumps({"arena": sys.argv[2], "chunk": int(sys.argv[3]), "weights": sys.argv[4],
                  "session_pss_mib": round(session[1] - before[1], 1), "rss_growth_mib": round(after[0] - before[0], 1),
                  "pss_growth_mib": round(after[1] - before[1], 1), "rss_mib": round(after[0], 1)}))
'''


def arena(folder: Path) -> list[dict]:
    """The ONNX space's sub-model in a fresh process per setting, arena on and off, texts run
    8 at a time (as served) and all of a request at once."""
    import tempfile

    out = []
    runs = [(a, c, "apart") for c in (8, 1024) for a in ("on", "off")] + [("off", 8, "inline")]
    for setting, chunk, weights in runs * 2:
        scratch = tempfile.mkdtemp(prefix="keras-onnx-")
        run = subprocess.run([sys.executable, "-c", ARENA_SCRIPT, str(folder), setting, str(chunk),
                              weights, scratch],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        out.append(json.loads(run.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/keras-onnx"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=40, help="one-text requests per round and space")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--arena-only", type=Path, metavar="SPACE_FOLDER")
    p.add_argument("--skip-build", action="store_true", help="measure the catalog in --out as it is")
    args = p.parse_args()
    if args.arena_only:
        print(json.dumps(arena(args.arena_only), indent=1))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"build": build(args.out) if not args.skip_build else "skipped"}
    report["http"] = measure(args.out, args.rounds, args.requests, args.port)
    from service.store import catalog

    report["arena"] = arena(catalog.resolve(args.out / "cat", "tutorial"))
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
