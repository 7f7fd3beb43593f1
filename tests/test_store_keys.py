"""A space's keys held as one UTF-8 buffer (service/store/keys.py): the same answers as the
list and dict they replace, and look-ups in a forked worker that copy no page of the master."""
from __future__ import annotations

import gc
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from service.errors import BadIndex
from service.store import keys as keys_module
from service.store.keys import Keys
from tests.support.tables import toy_table

WORDS = ["the", "Paris", "paris", "", "münchen", "e\u0301t\u00e9", "日本", "x" * 300, "a b"]


@pytest.mark.parametrize("collide", [False, True])
def test_keys_answer_as_the_list_and_the_dict_do(monkeypatch, collide):
    if collide:  # every key of a length shares its hash: the key itself must decide
        monkeypatch.setattr(keys_module, "_hash", len)
    keys = Keys.from_list(WORDS)
    as_dict = {k: i for i, k in enumerate(WORDS)}
    assert len(keys) == len(WORDS) and list(keys) == WORDS and keys == WORDS
    assert [keys[i] for i in range(-len(WORDS), len(WORDS))] == WORDS + WORDS
    assert keys[2:5] == WORDS[2:5] and keys[::-3] == WORDS[::-3]
    for word in WORDS + ["PARIS", "munchen", "nothing", "th"]:
        assert keys.rows.get(word) == as_dict.get(word)
        assert (word in keys.rows) == (word in as_dict) == (word in keys)
    assert keys.rows.many(["paris", "nothing", "日本", ""]).tolist() == [2, -1, 6, 3]
    assert keys.rows.get(3) is None and keys.index("日本") == 6
    assert keys.repeated() is None and keys.text().decode("utf-8").split("\n")[:-1] == WORDS
    assert keys.row_hashes().tolist() == [keys_module._hash(w) for w in WORDS]
    with pytest.raises(IndexError):
        keys[len(WORDS)]
    with pytest.raises(KeyError):
        keys.rows["nothing"]


@pytest.mark.parametrize("collide", [False, True])
def test_a_repeated_key_is_found(monkeypatch, collide):
    if collide:
        monkeypatch.setattr(keys_module, "_hash", len)
    assert Keys.from_list(["ab", "cd", "ef", "cd"]).repeated() == "cd"
    assert Keys.from_list(["ab", "cd", "ef"]).repeated() is None


def test_a_key_with_a_line_feed_is_refused():
    with pytest.raises(ValueError, match="line feed"):
        Keys.from_list(["ab", "c\nd"])


def test_keys_sent_to_another_process_are_hashed_there():
    """Python's str hashes are keyed per process: a spawned process must not use the sender's."""
    import pickle
    import subprocess
    import sys

    sent = pickle.dumps(Keys.from_list(WORDS))
    code = ("import json, pickle, sys; k = pickle.loads(sys.stdin.buffer.read()); "
            "print(json.dumps([[k.rows.get(w) for w in k], k.rows.get('nothing')]))")
    out = subprocess.run([sys.executable, "-c", code], input=sent, capture_output=True, check=True,
                         cwd=Path(__file__).parents[1], env={**os.environ, "PYTHONHASHSEED": "random"})
    assert json.loads(out.stdout) == [list(range(len(WORDS))), None]


def test_iteration_spans_the_blocks_it_decodes():
    words = [f"w{i}é" for i in range(3 * keys_module._BLOCK + 7)]
    keys = Keys.from_lines("".join(f"{w}\n" for w in words).encode("utf-8"))
    assert list(keys) == words and keys.rows.many(words).tolist() == list(range(len(words)))
    assert keys.non_ascii_rows().tolist() == list(range(len(words)))


def test_a_keys_file_not_utf8_or_with_a_repeated_key_is_refused_at_load(tmp_path):
    from service.store import catalog
    from service.store.space import Space

    catalog.write_space(tmp_path, "toy", toy_table(), source={"format": "test"})
    folder = catalog.space_folder(tmp_path, "toy")
    keys = (folder / "keys.txt").read_bytes().split(b"\n")[:-1]
    for bad, why in ((b"\xff\xfe", "not UTF-8"), (keys[0], "appears twice")):
        (folder / "keys.txt").write_bytes(b"".join(k + b"\n" for k in keys[:-1] + [bad]))
        with pytest.raises(BadIndex, match=why) as refused:
            Space.open("toy", folder, catalog.read_manifest(folder))
        assert "keys.txt" in str(refused.value)


def _private_dirty_mib() -> float:
    with open("/proc/self/smaps_rollup") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Private_Dirty")) / 1024


def test_look_ups_in_a_forked_worker_copy_no_page_of_the_keys():
    """The master holds the keys; a child looking up thousands of words and reading thousands
    of keys only reads its pages. A list of str and a dict of str to int copied about 10 MiB
    here (each look-up writes the reference count of the object it returns)."""
    words = [f"key{i:06d}" for i in range(200_000)]
    keys = Keys.from_list(words)
    del words
    gc.collect()
    gc.freeze()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker, with words of its own, as a request's would be
        picked = random.Random(0).sample(range(200_000), 5000)
        asked = [f"key{i:06d}" for i in picked]
        before = _private_dirty_mib()
        found = sum(keys.rows.get(w) == i for w, i in zip(asked, picked))
        same = sum(keys[i] == w for w, i in zip(asked, picked))
        os.write(write, f"{found} {same} {_private_dirty_mib() - before}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found, same, grown = pipe.read().split()
    os.waitpid(pid, 0)
    gc.unfreeze()
    assert int(found) == int(same) == 5000
    assert float(grown) < 2.0, f"the child copied {float(grown):.1f} MiB"
