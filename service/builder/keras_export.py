"""A Keras model's own sentence vectors, whatever sits between its Embedding and its sentence
layer: the sub-model from the Embedding's integer input to that layer, exported to ONNX with a
pinned opset (Keras's `model.export(format="onnx")`, tf2onnx inside) and served by ONNX Runtime
(service/store/onnx_sentences.py).

Every label is measured: the served path (tokens replayed in Python, then numpy pooling or
ONNX Runtime) is run next to Keras itself (the model's TextVectorization, then the Keras
sub-model) on at least 200 texts, and the space says `exact: true` only when every cosine is
at least 0.9999. A model whose numpy pooling is already exact keeps it (no ONNX where numpy is
exact). When the export or the check fails, the space keeps the numpy approximation, labelled,
with the reason.

Imported at build time only: it imports TensorFlow.
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from service.builder import keras_model, keras_text
from service.errors import InputError
from service.store import onnx_sentences
from service.store.embed import embed_texts

log = logging.getLogger(__name__)

OPSET = 17          # pinned: ONNX Runtime 1.17+ runs it, tf2onnx 1.17 writes it
MIN_COSINE = 0.9999
MIN_TEXTS = 200
MAX_TEXTS = 1000    # of a task's test split: enough to check, a few seconds to run
_POOLING_PREFIX = "Global"  # GlobalAveragePooling1D, GlobalMaxPooling1D


def sentence_layer(model, embedding, name: str | None, path):
    """The layer whose output is the model's sentence vector: the one named, else the first
    global pooling layer after the Embedding, else the last layer before the classifier head
    (None when there is no such layer).

    Raises:
        InputError: `name` is not a layer after the Embedding with one vector per text;
            the message lists those that are.
    """
    order = [lyr for lyr in keras_model.layers(model) if not hasattr(lyr, "layers")]
    after = order[order.index(embedding) + 1:]
    candidates = [lyr for lyr in after if _rank(lyr) == 2]
    if name is not None:
        found = next((lyr for lyr in after if lyr.name == name), None)
        if found is not None and _rank(found) == 2:
            return found
        names = ", ".join(repr(lyr.name) for lyr in candidates) or "none"
        what = (f"layer {name!r} gives a vector per token, not per text" if found is not None
                else f"no layer named {name!r} after the Embedding {embedding.name!r}")
        raise InputError(f"{path}: sentence_layer: {what}; the layers with one vector per text "
                         f"are: {names}")
    for lyr in after:
        if type(lyr).__name__.startswith(_POOLING_PREFIX) and _rank(lyr) == 2:
            return lyr
    body = [lyr for lyr in candidates[:-1]
            if type(lyr).__name__ not in keras_text.IDENTITY_AT_INFERENCE]
    return body[-1] if body else None


def _rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called more than once has no one output
        return None


def sample_texts(words: list[str], n: int = MIN_TEXTS + 40, seed: int = 0) -> list[str]:
    """Texts made of the model's own words (and a few it lacks), 1 to 60 tokens, cased and
    punctuated at random: the parity texts when the build has no task."""
    rng = np.random.default_rng(seed)
    pool = [w for w in words if w not in ("", "[UNK]") and " " not in w] or ["word"]
    texts = []
    for i in range(n):
        tokens = [str(pool[j]) for j in rng.integers(0, len(pool), rng.integers(1, 61))]
        if i % 5 == 0:
            tokens.append("zyzzyva")
        if i % 3 == 0:
            tokens[0] = tokens[0].capitalize() + ","
        texts.append(" ".join(tokens) + ("!" if i % 2 else "."))
    return texts


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row cosines; two vectors both (near) zero count as equal."""
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    cos = (a * b).sum(1) / np.maximum(na * nb, 1e-30)
    both_zero = (na < 1e-6) & (nb < 1e-6)
    return np.where(both_zero, 1.0, cos)


class Reference:
    """Keras itself on texts: the model's TextVectorization (or, with the vectorizer outside,
    the ids the server makes), then the Keras sub-model up to `layer`."""

    def __init__(self, model, embedding, layer, served: onnx_sentences.SentenceModel):
        import keras

        self.sub = keras.Model(embedding.input, layer.output)
        found = keras_text.vectorizers(model)
        self.vectorize = found[0] if found else None
        self.served = served

    def ids(self, text: str) -> list[int]:
        if self.vectorize is None:
            return self.served.ids(text)[0]
        import tensorflow as tf

        row = np.asarray(self.vectorize(tf.constant([text]))).reshape(-1)
        if not self.served.length:  # unpadded: a text alone is not padded
            row = np.trim_zeros(row, "b")
        return [int(i) for i in row]

    def vectors(self, texts: list[str]) -> np.ndarray:
        rows = [self.ids(t) for t in texts]
        out = None
        groups: dict[int, list[int]] = {}
        for i, ids in enumerate(rows):
            groups.setdefault(self.served.length or max(len(ids), self.served.min_length),
                              []).append(i)
        for width, members in groups.items():
            batch = np.zeros((len(members), width), dtype=self.served.dtype)
            for j, i in enumerate(members):
                batch[j, :len(rows[i])] = rows[i]
            got = np.asarray(self.sub.predict(batch, verbose=0, batch_size=256))
            out = np.zeros((len(texts), got.shape[1]), dtype="float32") if out is None else out
            out[members] = got
        return out


def parity_texts(texts: list[str] | None, words: list[str]) -> tuple[list[str], str]:
    """At least MIN_TEXTS texts: the task's held-out texts, topped up with sample texts."""
    texts = [t for t in (texts or []) if t.strip()][:MAX_TEXTS]
    if len(texts) >= MIN_TEXTS + 40:  # a few texts may have no token
        return texts, "the task's test split"
    made = sample_texts(words, MIN_TEXTS - len(texts) + 40)
    return texts + made, ("the task's test split and texts made of the model's words" if texts
                          else "texts made of the model's words")


def sentence_vectors(model, embedding, words: list[str], embed: dict, table, *, path,
                     name: str | None = None, texts: list[str] | None = None,
                     folder: Path | None = None, export=None) -> dict:
    """embed.json for the model after the check: numpy pooling where it is exact, else the
    ONNX sub-model up to the sentence layer, written to `folder`/sentences.onnx; `computed`,
    `exact` and `sentence` (method, layer, opset, parity) say which and how close. `export`
    writes the ONNX file (Keras's exporter unless a caller gives another).

    Raises:
        InputError: `name` names no layer with one vector per text.
    """
    layer = sentence_layer(model, embedding, name, path)
    _, skipped, _ = keras_text.pooling_after(model, embedding)
    numpy_layer = _pooling_layer(model, embedding)
    texts, source = parity_texts(texts, words)
    if layer is not None and layer is numpy_layer and not skipped:
        parity = _numpy_parity(model, embedding, layer, embed, table, words, texts)
        reason = None if passed(parity) else (
            f"the numpy pooling differs from Keras ({_shortfall(parity)})")
        return _labelled(embed, "numpy", layer, parity, source, reason)
    if layer is None:
        return _labelled(embed, "numpy", None, None, source,
                         "no layer after the Embedding gives one vector per text")
    folder = Path(folder or tempfile.mkdtemp(prefix="wordspace-onnx-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        model_entry = _export(model, embedding, layer, embed, words, folder, export or export_onnx)
        served = onnx_sentences.SentenceModel(folder / model_entry["file"],
                                              {**embed, "model": model_entry})
        reference = Reference(model, embedding, layer, served)
        counted = [t for t in texts if served.ids(t)[0]]
        got = np.stack([e.vector for e in served.embed(counted)])
        parity = measured(got, reference.vectors(counted), started)
    except Exception as e:  # tf2onnx and onnxruntime raise many kinds; the reason is kept
        log.warning("%s: the ONNX export of the sub-model up to %r failed: %s", path, layer.name, e)
        return _labelled(embed, "numpy", layer, None, source,
                         f"the ONNX export up to {layer.name!r} failed "
                         f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})")
    log.info("%s: ONNX sub-model up to %r: min cosine %s to Keras on %d texts (%.1f s)",
             path, layer.name, parity["min_cosine"], parity["texts"], parity["seconds"])
    if not passed(parity):
        return _labelled(embed, "numpy", layer, parity, source,
                         f"the ONNX sub-model up to {layer.name!r} differs from Keras "
                         f"({_shortfall(parity)})")
    return _labelled({**embed, "model": model_entry}, "onnx", layer, parity, source, None)


def _pooling_layer(model, embedding):
    """The global pooling layer service/store/embed.py computes in numpy, if any."""
    order = list(keras_model.layers(model))
    for lyr in order[order.index(embedding) + 1:]:
        if type(lyr).__name__ in keras_text.POOLING:
            return lyr
    return None


def _numpy_parity(model, embedding, layer, embed, table, words, texts) -> dict:
    """The numpy pooling next to Keras's pooling layer, on the texts."""
    from service.store.space import Space

    started = time.perf_counter()
    space = Space.from_table(table, embed_config=embed)
    ids_model = onnx_sentences.SentenceModel(Path("unused"), {
        **embed, "model": {"vocabulary": words, "dimension": 1,
                           "sequence_length": embed.get("sequence_length"),
                           "input_dtype": embedding.input.dtype}})
    reference = Reference(model, embedding, layer, ids_model)
    served = embed_texts(space, texts)
    counted = [i for i, e in enumerate(served) if e.tokens]
    got = np.stack([served[i].vector for i in counted]) if counted else np.zeros((0, 1))
    want = reference.vectors([texts[i] for i in counted]) if counted else np.zeros((0, 1))
    return measured(got, want, started)


def measured(got: np.ndarray, want: np.ndarray, started: float) -> dict:
    """The parity figure: texts compared, their lowest cosine (None for none), seconds."""
    cos = cosines(got, want)
    return {"texts": len(cos), "min_cosine": round(float(cos.min()), 6) if len(cos) else None,
            "seconds": round(time.perf_counter() - started, 2)}


def passed(parity: dict | None) -> bool:
    """Every cosine at least MIN_COSINE, on at least MIN_TEXTS texts."""
    return (parity is not None and parity["texts"] >= MIN_TEXTS
            and parity["min_cosine"] >= MIN_COSINE)


def _shortfall(parity: dict) -> str:
    return (f"min cosine {parity['min_cosine']} on {parity['texts']} texts; {MIN_COSINE} on "
            f"{MIN_TEXTS} needed")


def export_onnx(sub, path: Path, opset: int = OPSET) -> None:
    """Keras's own ONNX export of `sub` (tf2onnx inside), the batch and length left open."""
    import tensorflow as tf

    spec = tf.TensorSpec((None,) + tuple(sub.inputs[0].shape[1:]), sub.inputs[0].dtype, name="ids")
    sub.export(str(path), format="onnx", opset_version=opset, verbose=False, input_signature=[spec])


def _export(model, embedding, layer, embed, words, folder: Path, export) -> dict:
    import keras

    sub = keras.Model(embedding.input, layer.output)
    path = folder / onnx_sentences.ONNX_FILE
    export(sub, path)
    _weights_apart(path, folder / onnx_sentences.ONNX_DATA)
    length = embedding.input.shape[1] if len(embedding.input.shape) > 1 else None
    entry = {"file": onnx_sentences.ONNX_FILE, "data": onnx_sentences.ONNX_DATA, "layer": layer.name, "layer_type": type(layer).__name__,
             "dimension": int(layer.output.shape[-1]), "opset": OPSET,
             "sequence_length": length or embed.get("sequence_length"),
             "input_dtype": str(embedding.input.dtype), "vocabulary": [str(w) for w in words]}
    entry["min_length"] = _min_length(path, entry, embed)
    return entry


def _weights_apart(path: Path, data: Path) -> None:
    """Move the weights into a file of their own (ONNX external data), which ONNX Runtime maps
    instead of copying: the workers share the Embedding's pages (docs/keras-models.md)."""
    import onnx

    model = onnx.load(str(path))
    data.unlink(missing_ok=True)  # onnx appends to an existing file
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data.name, size_threshold=1024)


def _min_length(path: Path, entry: dict, embed: dict) -> int:
    """The shortest sequence the model runs (a Conv1D of width 7 needs 7) when it has no
    fixed length: shorter texts are padded to it."""
    if entry["sequence_length"]:
        return 1
    session = onnx_sentences.open_session(path)
    name = session.get_inputs()[0].name
    for width in range(1, 257):
        try:
            session.run(None, {name: np.zeros((1, width), dtype=entry["input_dtype"])})
            return width
        except Exception:  # onnxruntime's own error type: too short for the model
            continue
    raise InputError(f"{path}: the model runs on no sequence of up to 256 tokens")


def _labelled(embed: dict, method: str, layer, parity: dict | None, source: str,
              reason: str | None) -> dict:
    """embed.json with what the served vectors are (`computed`, `exact`) and how that was
    checked (`sentence`: method, layer, opset, parity). Exact needs the parity check passed
    and the model's own tokens (a custom function or split not replayed stays inexact)."""
    notes = embed.get("notes", {})
    tokens, assumed = notes.get("tokens", []), notes.get("assumed", [])
    if method == "onnx":
        what = "; ".join([f"the model's {embed['model']['layer_type']} output ({layer.name!r}), by "
                          "ONNX Runtime: the model's sub-model from its Embedding's input to that "
                          "layer"] + tokens + assumed)
        exact = passed(parity) and not tokens
    else:
        what, exact = embed["computed"], embed["exact"] and passed(parity)
    if reason:
        what = f"{what}; {reason}"
    sentence = {"method": method if method == "onnx" or exact else "approximation",
                "layer": layer.name if layer is not None else None,
                "opset": OPSET if method == "onnx" else None,
                "parity": None if parity is None else {**parity, "on": source}}
    return {**embed, "computed": what, "exact": bool(exact), "sentence": sentence}
