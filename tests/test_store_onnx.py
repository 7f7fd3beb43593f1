"""Serving a space's ONNX sentence model (service/store/onnx_sentences.py) without TensorFlow:
an ONNX graph written here with onnx's helpers (Gather of the Embedding rows, then a max over
the sequence), published as a build publishes it; its answers against numpy on the same ids,
padding included; a missing, unlisted or unreadable file refuses the space at load, naming it.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from service import create_app
from service.settings import Settings
from service.store import catalog
from service.store.embed import EMBED_FORMAT
from service.store.onnx_sentences import ONNX_DATA, ONNX_FILE
from service.text import SETTINGS as TOKENIZER
from tests.support.tables import toy_table

onnx = pytest.importorskip("onnx", reason="the [train] extra installs onnx")

LENGTH = 6
KEY = {"Authorization": "Bearer k"}


def max_model(path, table: np.ndarray) -> None:
    """ids (batch, length) -> max over the sequence of table[ids]: a GlobalMaxPooling1D."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0),
         helper.make_node("ReduceMax", ["rows"], ["pooled"], axes=[1], keepdims=0)],
        "max", [helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [None, table.shape[1]])],
        [numpy_helper.from_array(table.astype("float32"), "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=ONNX_DATA, size_threshold=0)


def publish(tmp_path, files=(ONNX_FILE, ONNX_DATA), **model_change):
    """A task space whose embed.json names the ONNX model; (catalog, vocabulary, table rows)."""
    table = toy_table()
    words = ["", "[UNK]"] + list(table.index_to_key)
    rows = np.vstack([np.zeros((1, 16)), np.full((1, 16), -1.0), table.vectors]).astype("float32")
    made = tmp_path / "made"
    made.mkdir()
    max_model(made / ONNX_FILE, rows)
    model = {"file": ONNX_FILE, "data": ONNX_DATA, "layer": "pooling", "layer_type": "GlobalMaxPooling1D",
             "dimension": 16, "opset": 17, "sequence_length": LENGTH, "min_length": 1,
             "input_dtype": "int64", "vocabulary": words, **model_change}
    config = {"format": EMBED_FORMAT, "tokenizer": TOKENIZER, "pooling": "max", "sequence_length": LENGTH,
              "unk_vector": [-1.0] * 16, "computed": "the model's GlobalMaxPooling1D output", "exact": True,
              "model": model}
    (made / "embed.json").write_text(json.dumps(config))
    cat = tmp_path / "cat"
    catalog.write_space(cat, "task", table, source={"format": "test"}, details={"kind": "task"},
                        extra_files={"embed.json": made / "embed.json",
                                     **{f: made / f for f in files}})
    return cat, words, rows


def test_onnx_vectors_are_the_graphs_on_padded_ids(tmp_path):
    cat, words, rows = publish(tmp_path)
    client = create_app(Settings(catalog=cat)).test_client()
    texts = ["alps king", "Zyzzyva alps", " ".join(words[2:12]), "!!!"]
    answer = client.post("/v1/spaces/task/embed", json={"texts": texts}).get_json()
    got = np.array([r["vector"] for r in answer["results"]])
    for text, vector, result in zip(texts, got, answer["results"]):
        tokens = text.lower().replace("!", "").split()[:LENGTH]
        ids = [words.index(t) if t in words else 1 for t in tokens]
        if not ids:  # no token: no vector
            assert result["tokens"] == 0 and not vector.any()
            continue
        padded = ids + [0] * (LENGTH - len(ids))  # the padding row (zeros) is seen by a max
        np.testing.assert_allclose(vector, rows[padded].max(axis=0), atol=1e-6)
        assert result["tokens"] == len(ids)
    assert answer["results"][1]["missing"] == ["zyzzyva"]
    compared = client.post("/v1/compare/sentences", json={"sentences": texts[:2], "spaces": ["task"]})
    np.testing.assert_allclose(compared.get_json()["spaces"][0]["vectors"], got[:2], atol=1e-6)


def test_each_process_makes_its_own_session(tmp_path):
    """A session is made on first use in a process and never crosses a fork (gunicorn forks
    its workers after the spaces are loaded)."""
    from service.store.onnx_sentences import sentence_model
    from service.web.state import state

    cat, _, _ = publish(tmp_path)
    app = create_app(Settings(catalog=cat))
    model = sentence_model(state(app).registry.get("task"))
    parent = model.session()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a session of its own, then its answer
        os.close(read)
        ok = model.session() is not parent and model.embed(["alps"])[0].tokens == 1
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert model.session() is parent


@pytest.mark.parametrize("files, change, says", [
    ((ONNX_FILE,), {}, f"{ONNX_DATA}: missing"),
    ((ONNX_FILE,), {"unlisted": True}, f"{ONNX_DATA}: not listed in the manifest"),
    ((ONNX_FILE, ONNX_DATA), {"file": "other.onnx"}, "other.onnx: missing"),
    ((ONNX_FILE, ONNX_DATA), {"dimension": 8}, "an output of 8 numbers per text"),
])
def test_a_bad_onnx_model_refuses_the_space_naming_the_file(tmp_path, files, change, says):
    unlisted = change.pop("unlisted", False)
    cat, _, _ = publish(tmp_path, files, **change)
    if unlisted:  # in the folder, but not in the manifest: never checksummed, so never served
        (catalog.resolve(cat, "task") / ONNX_DATA).write_bytes((tmp_path / "made" / ONNX_DATA).read_bytes())
    client = create_app(Settings(catalog=cat, api_keys=("k",))).test_client()
    ready = client.get("/readyz", headers=KEY).get_json()  # an operator sees the file and why
    assert ready["spaces"]["task"]["state"] == "failed"
    assert says in f"{os.path.basename(ready['spaces']['task']['path'])}: {ready['spaces']['task']['error']}"
    r = client.post("/v1/spaces/task/embed", json={"texts": ["alps"]}, headers=KEY)
    assert r.status_code == 503


def test_an_unreadable_onnx_file_refuses_the_space(tmp_path):
    cat, _, _ = publish(tmp_path)
    folder = catalog.resolve(cat, "task")
    (folder / ONNX_FILE).write_bytes(b"not an onnx model")
    manifest = catalog.read_manifest(folder)  # checksummed again: the bytes are ONNX's problem
    from service.store import checksums

    manifest["files"][ONNX_FILE] = checksums.file_entry(folder / ONNX_FILE)
    (folder / catalog.MANIFEST).write_text(json.dumps(manifest))
    client = create_app(Settings(catalog=cat, api_keys=("k",))).test_client()
    ready = client.get("/readyz", headers=KEY).get_json()
    assert ready["spaces"]["task"]["state"] == "failed"
    assert ready["spaces"]["task"]["path"].endswith(ONNX_FILE)
    assert "ONNX Runtime cannot read it" in ready["spaces"]["task"]["error"]
