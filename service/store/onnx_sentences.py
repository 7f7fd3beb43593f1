"""A Keras model's own sentence vectors, served with ONNX Runtime: the sub-model from the
Embedding's integer input to the model's sentence layer (a Conv1D stack and its pooling, an
LSTM, a Dense after the pooling), exported to ONNX by the build (service/builder/keras_export.py)
and checked there against Keras. The server never imports TensorFlow.

The text is tokenized as the numpy path does (service/text.py's `tokenize_as`, the model's
TextVectorization replayed in Python), looked up in the model's own vocabulary (rows in the
Embedding's order, [UNK] for the rest), cut to the model's sequence length and padded with
zeros after the tokens, as TextVectorization pads: a Conv1D or an LSTM sees the padding. A
model without a fixed length runs each text unpadded (texts of one length share a batch).

One ONNX Runtime session per process, made on first use: gunicorn forks its workers after the
spaces are loaded, and a session must not cross a fork. One intra-op thread (gunicorn's
workers and threads are the parallelism); no memory arena, and texts run 8 at a time
(docs/keras-models.md measures why).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from service.errors import BadIndex
from service.store.embed import Embedding, embed_texts
from service.text import tokenize_as

ONNX_FILE = "sentences.onnx"
ONNX_DATA = "sentences.onnx.data"  # its weights, mapped by ONNX Runtime: workers share the pages
ARENA = False  # the CPU memory arena: off, measured in docs/keras-models.md
# Texts per run: a Conv1D's activations for 100 texts of 500 tokens are tens of MB, which the
# allocator keeps once used; runs of 8 keep a worker's growth small and are no slower
# (docs/keras-models.md).
CHUNK = 8


def session_options():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = ARENA
    options.log_severity_level = 3
    return options


def open_session(path: Path):
    """An ONNX Runtime session on CPU with the serving options (the build checks parity with
    the same ones).

    Raises:
        BadIndex: onnxruntime is missing or cannot read the file.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise BadIndex(path, "serving this space's sentence vectors needs onnxruntime "
                             "(pip install onnxruntime)") from None
    try:
        return ort.InferenceSession(str(path), sess_options=session_options(),
                                    providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for a bad file
        raise BadIndex(path, f"ONNX Runtime cannot read it ({str(e).splitlines()[0][:200]})") from None


def check(folder: Path, model: dict, listed) -> None:
    """Open the space's ONNX file once at load and check it takes token ids and gives vectors
    of the recorded dimension, so a bad file refuses the space at load. It is opened in a
    child process, never in the loading one: a session made in gunicorn's master before the
    fork left each worker a copy of ONNX Runtime's state whose threads it does not have, and
    a worker then aborted or hung at exit, so SIGTERM waited out the graceful timeout.

    Raises:
        BadIndex: naming the file.
    """
    path = folder / model["file"]
    for name in filter(None, (model["file"], model.get("data"))):
        if not (folder / name).is_file():
            raise BadIndex(folder / name, "missing: embed.json names it as the sentence model")
        if name not in listed:
            raise BadIndex(folder / name, "not listed in the manifest")
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        problem = child.submit(problem_with, str(path), model["dimension"]).result()
    if problem:
        raise BadIndex(path, problem)


def problem_with(path: str, dimension: int) -> str | None:
    """What keeps the ONNX file at `path` from serving a space of `dimension`, or None."""
    try:
        session = open_session(Path(path))
    except BadIndex as e:
        return e.reason
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 2 or len(outputs) < 1 or (
            len(outputs[0].shape) != 2 or outputs[0].shape[1] != dimension):
        return f"expected one input of token ids and an output of {dimension} numbers per text"
    return None


class SentenceModel:
    """A space's ONNX sub-model and the vocabulary that turns tokens into its input ids."""

    def __init__(self, path: Path, config: dict):
        model = config["model"]
        self.path = path
        self.tokenizer = config["tokenizer"]
        self.index = {w: i for i, w in enumerate(model["vocabulary"])}
        self.unk = self.index.get(config.get("unk_token", "[UNK]"), 1)
        self.length = model.get("sequence_length")
        self.min_length = model.get("min_length", 1)
        self.dtype = np.dtype(model.get("input_dtype", "int64"))
        self.dimension = model["dimension"]
        self._sessions: dict[int, object] = {}  # by process id: a session never crosses a fork
        self._lock = threading.Lock()

    def session(self):
        pid = os.getpid()
        session = self._sessions.get(pid)
        if session is None:
            with self._lock:
                session = self._sessions.get(pid)
                if session is None:
                    self._sessions = {pid: open_session(self.path)}  # drop a parent's
                    session = self._sessions[pid]
        return session

    def ids(self, text: str) -> tuple[list[int], list[str]]:
        """(the text's token ids, cut to the model's length; the tokens it lacks)."""
        tokens = tokenize_as(text, self.tokenizer)
        if self.length:
            tokens = tokens[:self.length]  # TextVectorization cuts to output_sequence_length
        ids = [self.index.get(t, self.unk) for t in tokens]
        return ids, [t for t in tokens if t not in self.index]

    def run(self, rows: list[list[int]]) -> np.ndarray:
        """The model's vectors for token-id rows: padded with zeros after the tokens to the
        model's length (or, without one, each length run as its own batch)."""
        out = np.zeros((len(rows), self.dimension), dtype="float32")
        session = self.session()
        name = session.get_inputs()[0].name
        groups: dict[int, list[int]] = {}
        for i, ids in enumerate(rows):
            groups.setdefault(self.length or max(len(ids), self.min_length), []).append(i)
        for width, members in groups.items():
            for start in range(0, len(members), CHUNK):
                part = members[start:start + CHUNK]
                batch = np.zeros((len(part), width), dtype=self.dtype)
                for j, i in enumerate(part):
                    batch[j, :len(rows[i])] = rows[i]
                out[part] = session.run(None, {name: batch})[0]
        return out

    def embed(self, texts: list[str]) -> list[Embedding]:
        """One Embedding per text; a text with no token gives zeros (no vector to speak of)."""
        made = [self.ids(t) for t in texts]
        counted = [i for i, (ids, _) in enumerate(made) if ids]
        vectors = np.zeros((len(texts), self.dimension), dtype="float32")
        if counted:
            vectors[counted] = self.run([made[i][0] for i in counted])
        return [Embedding(vectors[i], len(ids), missing) for i, (ids, missing) in enumerate(made)]


_MODELS_LOCK = threading.Lock()


def sentence_model(space) -> SentenceModel | None:
    """The space's ONNX sentence model when its embed.json names one, made once per space."""
    config = getattr(space, "embed_config", None)
    folder = getattr(space, "folder", None)
    if not config or "model" not in config or folder is None:
        return None
    model = getattr(space, "_sentence_model", None)
    if model is None:
        with _MODELS_LOCK:
            model = getattr(space, "_sentence_model", None)
            if model is None:
                model = SentenceModel(folder / config["model"]["file"], config)
                space._sentence_model = model
    return model


def sentence_vectors(space, texts: list[str]) -> list[Embedding]:
    """The space's sentence vectors as its answers give them: the model's own through ONNX
    Runtime when the build exported and checked a sub-model, else service/store/embed.py's
    pooling of word rows."""
    model = sentence_model(space)
    return model.embed(texts) if model is not None else embed_texts(space, texts)
