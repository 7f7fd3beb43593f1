"""Bounds and answers (issue 29): a query vector of any finite scale answers its direction; a
JSON body with a lone surrogate, or a path or query string that is not UTF-8 once
percent-decoded, gets a problem+json 400 that echoes none of it; a build that runs out of disk
says so in one line (exit 2); warnings are log lines like any other; keys a rebuild drops are
counted in a warning."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from service import cli
from service.store import catalog
from tests.support.tables import toy_table


def neighbours(client, vector) -> list[tuple[str, float]]:
    r = client.post("/v1/spaces/toy/neighbors", json={"vectors": [vector], "k": 5})
    assert r.status_code == 200, r.get_json()
    return [(n["word"], n["score"]) for n in r.get_json()["results"][0]["neighbors"]]


@pytest.mark.parametrize("scale", [1e19, 1e200, 3e38, 1e-30, 1e-300])
def test_a_vector_of_any_finite_scale_answers_its_direction(client, table, scale):
    direction = table.vectors[table.index_to_key.index("alps")].astype("float64")
    expected = neighbours(client, direction.tolist())
    assert expected[0][0] == "alps" and expected[0][1] > 0.99
    got = neighbours(client, (direction / np.abs(direction).max() * scale).tolist())
    assert [w for w, _ in got] == [w for w, _ in expected]
    assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_one_huge_component_points_along_its_axis(client, table):
    """3e38 squared overflows float32: the norm was inf and every score 0."""
    vector = [0.0] * table.vector_size
    vector[0] = 3e38
    got = neighbours(client, vector)
    axis = np.asarray(table.vectors, dtype="float64")
    cosines = axis[:, 0] / np.linalg.norm(axis, axis=1)
    assert got[0][0] == table.index_to_key[int(np.argmax(cosines))]
    assert got[0][1] == pytest.approx(cosines.max(), abs=1e-5)


def test_an_integer_past_float64_is_refused_naming_the_bound(client, table):
    body = '{"vectors": [[' + ",".join(["1" + "0" * 400] + ["0"] * (table.vector_size - 1)) + "]]}"
    r = client.post("/v1/spaces/toy/neighbors", data=body)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert "1.798e+308" in r.get_json()["detail"]


def test_a_zero_vector_is_still_refused(client, table):
    r = client.post("/v1/spaces/toy/neighbors", json={"vectors": [[0.0] * table.vector_size]})
    assert r.status_code == 400 and "zero vector" in r.get_json()["detail"]


def post_routes(app) -> list[str]:
    return sorted({rule.rule.replace("<space>", "toy").replace("<path:word>", "alps")
                   for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and "/admin/" not in rule.rule})


def test_a_lone_surrogate_in_any_json_body_is_a_400(app, client):
    routes = post_routes(app)
    assert len(routes) >= 7
    member = '"\\ud800"'
    body = ('{"words": [%s], "texts": [%s, "b"], "pairs": [[%s, "alps"]], "a": %s, "b": %s, '
            '"positive": [%s], "spaces": ["toy"], "text": %s}' % ((member,) * 7))
    for route in routes:
        r = client.post(route, data=body, content_type="application/json")
        assert r.status_code == 400, (route, r.status_code, r.data[:300])
        assert r.mimetype == "application/problem+json"
        assert "surrogate" in r.get_json()["detail"], route
    # A surrogate pair is one character, and a body with one is read.
    r = client.post("/v1/spaces/toy/neighbors", data='{"words": ["\\ud83d\\ude00"]}')
    assert r.status_code == 200 and r.get_json()["results"][0]["word"] == "\U0001f600"


@pytest.mark.parametrize("url, where", [
    ("/v1/spaces/toy/neighbors?word=%C0%AF", "query string"),
    ("/v1/spaces/toy/similarity?a=%FF&b=alps", "query string"),
    ("/v1/spaces/toy/vectors/%C0%AF", "path"),
    ("/v1/spaces/%ED%A0%80/neighbors?word=alps", "path"),
])
def test_invalid_percent_encoding_is_refused_not_echoed(client, url, where):
    r = client.get(url)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert f"the {where} is not UTF-8" in r.get_json()["detail"]
    for echoed in (b"%C0", b"%c0", b"%FF", b"%ED", "\ufffd".encode()):
        assert echoed not in r.data


def test_valid_percent_encoding_still_reads(client):
    r = client.get("/v1/spaces/toy/neighbors?word=%C3%A9t%C3%A9x")
    assert r.status_code == 404 and r.get_json()["word"] == "étéx"
    r = client.get("/v1/spaces/toy/vectors/%C3%A9t%C3%A9x")
    assert r.status_code == 404 and r.get_json()["word"] == "étéx"


def test_warnings_are_log_lines_in_the_log_format():
    code = ("from service.logconfig import configure; configure('info', True); "
            "import numpy as np; np.float32(3e38) * np.float32(10); "
            "np.linalg.norm(np.full(4, 1e30, dtype='float32'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines, "numpy warned nothing"
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    assert {r["logger"] for r in records} == {"py.warnings"}
    assert all(r["level"] == "warning" and "RuntimeWarning" in r["message"] for r in records)


def test_keys_a_rebuild_drops_are_counted_in_a_warning(tmp_path, capsys):
    """GloVe holds keys with U+00A0: exported as word2vec text and built again, they are
    dropped (a key holds no whitespace), and the build says how many, as a warning."""
    t = toy_table()
    t.index_to_key[3] = "new\u00a0york"
    t.index_to_key[5] = "san\u00a0jose"
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", t, source={"format": "test"})
    out = tmp_path / "toy.txt"
    assert cli.main(["--catalog", str(cat), "export", "toy", "--format", "word2vec",
                     "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["--catalog", str(cat), "build-index", "again", "--from",
                     f"word2vec:{out}", "--topk-rows", "0"]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if " WARNING " in line and "dropped" in line]
    assert len(warned) == 1, err
    assert "dropped 2 keys: 2 with whitespace" in warned[0] and "new\\xa0york" in warned[0]
    assert catalog.read_manifest(cat / "again")["rows"] == len(t.index_to_key) - 2


def _unshare() -> list[str]:
    """A private mount namespace (and, when not root, a user namespace mapping root) in which a
    small tmpfs can be mounted: a real filesystem that fills up."""
    return ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux's unshare is missing")
def test_a_build_out_of_disk_says_so_in_one_line(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 50)).astype("float32")
    source = tmp_path / "v.txt"
    source.write_text("3000 50\n" + "".join(f"w{i} " + " ".join(f"{x:.4f}" for x in v) + "\n"
                                            for i, v in enumerate(vectors)))
    cat = tmp_path / "small"
    cat.mkdir()
    build = [sys.executable, "-m", "service.cli", "build-index", "w", "--from", f"word2vec:{source}",
             "--catalog", str(cat)]
    script = 'mount -t tmpfs -o size=300k tmpfs "$1" && shift && exec "$@"'
    done = subprocess.run(_unshare() + ["sh", "-c", script, "sh", str(cat), *build],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WORDSPACE_LOG_LEVEL": "warning"})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no space left" in lines[0] and f"{cat}/.versions" in lines[0]
    needed = int(lines[0].split("needs about ")[1].split()[0])
    assert needed > vectors.nbytes * 2  # the vectors, and the index holding them again
    assert "Traceback" not in done.stderr
