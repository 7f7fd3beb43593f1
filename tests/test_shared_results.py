"""What gunicorn's workers share instead of each computing its own copy (issue 26, item 6): the
keys' hashes and matplotlib are made in the master before the fork, and each pair's
neighbour lists of /v1/compare/spaces are computed once and memory-mapped by every worker.
The private memory this saves is measured by `python bench/one_replica.py memory`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.analysis.neighborhoods import Comparisons, compare_spaces
from service.store import catalog
from service.store.keys import Keys
from service.store.keyset import key_hashes, shared_rows
from service.store.shelf import Shelf
from service.store.space import Space
from service.web.state import state
from tests.support.server import serve
from tests.support.tables import toy_table


@pytest.fixture
def pair(tmp_path):
    a, b = toy_table(seed=0), toy_table(seed=5)
    b.index_to_key[-3:] = ["only-b-1", "only-b-2", "only-b-3"]
    b.index_to_key[:8] = b.index_to_key[:8][::-1]  # another row order than a's
    cat = tmp_path / "cat"
    catalog.write_space(cat, "a", a, source={"format": "test"})
    catalog.write_space(cat, "b", b, source={"format": "test"})
    return cat, a, b


def _app(cat: Path):
    from service import create_app
    from service.settings import Settings

    return create_app(Settings(catalog=cat))


def test_shared_rows_are_the_shared_words_in_the_first_space_order(pair):
    _, a, b = pair
    rows_a, rows_b = shared_rows(key_hashes(Keys.from_list(a.index_to_key)),
                                 key_hashes(Keys.from_list(b.index_to_key)))
    words = [w for w in a.index_to_key if w in set(b.index_to_key)]
    assert [a.index_to_key[r] for r in rows_a] == words
    assert [b.index_to_key[r] for r in rows_b] == words


def test_keys_are_hashed_and_sorted_when_the_spaces_load(pair):
    """In gunicorn's master, before any request: a worker then only reads them."""
    app = _app(pair[0])
    for name in ("a", "b"):
        space = state(app).registry.get(name)
        hashes = space._key_hashes
        assert hashes is not None and len(hashes) == 308 and not hashes.flags.writeable
        assert list(state(app).prefixes[space].keys) == sorted(space.index_to_key)


def test_a_pair_is_computed_once_and_mapped_by_every_worker(pair):
    app = _app(pair[0])
    first = app.test_client().get("/v1/compare/spaces?a=a&b=b&k=5&n=4").json
    shelf = state(app).comparisons.shelf
    assert state(app).comparisons.computed == 1
    files = sorted(p.suffix for p in shelf.folder.iterdir())
    assert files == [".json", ".lock", ".npy"]  # no temporary file left behind
    # Another worker: its own Comparisons (forked empty), the master's shelf.
    other = Comparisons(shelf=shelf)
    a, b = state(app).registry.get("a"), state(app).registry.get("b")
    again = other.get(a, b, 5, None, 0, 4)
    again.pop("seconds"), first.pop("seconds")  # each answer's own time
    assert again == first  # search_seconds too: the lists' own, read from the shelf
    assert other.computed == 0
    lists = next(iter(other.lists.values()))
    for array in (lists.rows, lists.na, lists.nb, lists.overlap, lists.union):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    # the same answer as computing the pair alone, without any cache
    alone = compare_spaces(a, b, k=5, n=4)
    assert first["mean_jaccard"] == alone.mean_jaccard and first["shared"] == alone.shared == 305
    assert [w["word"] for w in first["most_similar"]] == [w.word for w in alone.most_similar]


def test_a_new_version_is_computed_again_and_the_old_files_go(pair):
    cat, a, _ = pair
    app = _app(cat)
    client = app.test_client()
    before = client.get("/v1/compare/spaces?a=a&b=b&k=5").json
    shelf = state(app).comparisons.shelf
    old = {p.name for p in shelf.folder.iterdir()}
    catalog.write_space(cat, "b", toy_table(seed=9), source={"format": "test"})
    state(app).registry.reload()  # what SIGHUP does in the master
    assert not old & {p.name for p in shelf.folder.iterdir()}
    after = client.get("/v1/compare/spaces?a=a&b=b&k=5").json
    fresh = compare_spaces(Space.load(cat, "a"), Space.load(cat, "b"), k=5)
    assert after["mean_jaccard"] == fresh.mean_jaccard != before["mean_jaccard"]
    assert after["shared"] == 308


def test_a_result_is_written_whole_or_not_at_all(tmp_path):
    shelf = Shelf()
    path = shelf.path(("v1", "v2"), "k3")
    assert shelf.read(path) is None

    with pytest.raises(ValueError):  # np.save refuses an object array without pickle
        shelf.write(path, np.array([object()]), {"x": 1})
    assert shelf.read(path) is None
    assert not list(shelf.folder.glob("*.tmp*")) and not path.exists()
    shelf.write(path, np.arange(6, dtype="int32").reshape(3, 2), {"x": 1})
    table, meta = shelf.read(path)
    assert table.tolist() == [[0, 1], [2, 3], [4, 5]] and meta == {"x": 1}
    shelf.keep(["v1"])  # v2 is no longer served
    assert shelf.read(path) is None


@pytest.mark.slow
def test_gunicorn_master_loads_matplotlib_before_the_fork(pair):
    """Its modules and fonts are then shared pages of every worker, not each worker's own."""
    with serve(pair[0], workers=2, ready="/readyz") as server:
        maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
        assert "ft2font" in maps  # matplotlib's font renderer, loaded by the master


def test_every_picture_of_a_process_is_drawn_in_its_one_drawing_thread(monkeypatch):
    """matplotlib keeps fonts and text caches per thread: request threads drawing in turn
    would each hold a copy, so every picture is drawn in one thread of the process."""
    import threading

    from service.analysis import plots

    drew, render = [], plots._render
    monkeypatch.setattr(plots, "_render", lambda fig, fmt: drew.append(threading.get_ident())
                        or render(fig, fmt))
    answers = []
    requests = [threading.Thread(target=lambda: answers.append(plots.scorecard_plot({}, "svg")))
                for _ in range(4)]
    for t in requests:
        t.start()
    for t in requests:
        t.join()
    assert len(answers) == 4 and all(a.startswith(b"<?xml") for a in answers)
    assert len(drew) == 4 and len(set(drew)) == 1
    assert drew[0] not in {t.ident for t in requests} | {threading.get_ident()}


def test_a_picture_leaves_no_figure_behind():
    """A figure is a knot of reference cycles, freed only by a collection of the oldest
    generation: left to that, the figures of a worker's pictures piled up in its heap (20 word
    pictures grew a worker by about 13 MiB), so each drawing ends with a collection."""
    import gc

    from matplotlib.figure import Figure

    from service.analysis import plots

    gc.collect()
    assert plots.scorecard_plot({}, "svg").startswith(b"<?xml")
    assert plots.scorecard_plot({}, "png").startswith(b"\x89PNG")
    assert not [o for o in gc.get_objects() if isinstance(o, Figure)]


def test_an_alignment_is_fitted_once_and_mapped_by_every_worker(pair):
    from service.analysis.alignment import Alignments

    app = _app(pair[0])
    client = app.test_client()
    routes = ["/v1/compare/align?source=a&target=b",
              "/v1/compare/drift?source=a&target=b&n=5",
              "/v1/compare/translate?source=a&target=b&word=king&k=3"]
    first = [client.get(r).json for r in routes]
    fitted = state(app).alignments
    # Another worker: its own Alignments (forked empty), the master's shelf.
    state(app).alignments = other = Alignments(shelf=fitted.shelf)
    assert [client.get(r).json for r in routes] == first
    [shared] = other._cache.values()
    for array in (shared.W, shared.rows, shared.target_rows, shared.cosines):
        assert isinstance(array, np.memmap)
    assert first[0]["shared"] == 305 and first[1]["words"][0]["word"]


def test_an_alignment_is_the_same_whatever_the_hash_seed(pair):
    """Its words were ordered by a set's iteration order, which follows the process's hash
    seed: each server start (or replica) could fit another map. Now ties go by row."""
    import json
    import os
    import subprocess
    import sys

    script = ("import sys, json; from pathlib import Path; from service.store.space import Space; "
              "from service.analysis.alignment import fit; "
              "c = Path(sys.argv[1]); f = fit(Space.load(c, 'a'), Space.load(c, 'b')); "
              "print(json.dumps([f.fit_cosine, f.heldout_cosine, f.residual, f.rows.tolist()]))")
    got = [subprocess.run([sys.executable, "-c", script, str(pair[0])], check=True, text=True,
                          capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
           for seed in ("1", "2", "3")]
    assert got[0] == got[1] == got[2] and json.loads(got[0])[3]
