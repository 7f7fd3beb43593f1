"""The `wordspace` command as users expect it: options before or after the command, formats
guessed or corrected with the prefix to use, bad names and factory strings refused before any
file is read, faiss errors in one sentence, serve's options and environment, offline export."""
from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from service import cli
from service.store import catalog, formats
from tests.support.tables import toy_table


@pytest.fixture
def files(tmp_path):
    """The toy table as GloVe text, word2vec text, word2vec binary and gzipped GloVe."""
    from gensim.models import KeyedVectors

    t = toy_table(n_noise=20)
    kv = KeyedVectors(t.vector_size)
    kv.add_vectors(t.index_to_key, t.vectors)
    out = {"w2v": tmp_path / "v.txt", "bin": tmp_path / "v.bin", "glove": tmp_path / "g.txt"}
    kv.save_word2vec_format(str(out["w2v"]))
    kv.save_word2vec_format(str(out["bin"]), binary=True)
    out["glove"].write_text("".join(out["w2v"].read_text().splitlines(keepends=True)[1:]))
    out["glove.gz"] = tmp_path / "g.txt.gz"
    out["glove.gz"].write_bytes(gzip.compress(out["glove"].read_bytes()))
    return out


def test_formats_are_told_from_the_first_bytes(files, tmp_path):
    assert formats.sniff(files["w2v"]) == "word2vec"
    assert formats.sniff(files["bin"]) == "word2vec"
    assert formats.sniff(files["glove"]) == "glove"
    assert formats.sniff(files["glove.gz"]) == "glove"
    (tmp_path / "notes.txt").write_text("just some words\n")
    assert formats.sniff(tmp_path / "notes.txt") is None
    assert formats.dimension("glove", str(files["glove"])) == 16
    assert formats.dimension("word2vec", str(files["bin"])) == 16


@pytest.mark.parametrize("given, holds", [("word2vec", "glove"), ("glove", "w2v"), ("glove", "bin")])
def test_the_other_format_names_the_prefix_to_use(files, tmp_path, capsys, given, holds):
    path = files[holds]
    rc = cli.main(["build-index", "x", "--from", f"{given}:{path}", "--catalog", str(tmp_path / "c")])
    assert rc == 2
    right = "glove" if holds == "glove" else "word2vec"
    assert f"write {right}:{path}" in capsys.readouterr().err
    assert not (tmp_path / "c" / "x").exists()


def test_a_bare_path_is_guessed_and_the_guess_printed(files, tmp_path, capsys):
    cat = tmp_path / "c"
    assert cli.main(["build-index", "g", "--from", str(files["glove.gz"]), "--catalog", str(cat)]) == 0
    out = capsys.readouterr().out
    assert f"read as glove (guessed from the file; write glove:{files['glove.gz']}" in out
    assert catalog.read_manifest(catalog.resolve(cat, "g"))["rows"] == 28


@pytest.mark.parametrize("given", ["bare", "prefixed"])
def test_a_source_is_sniffed_once(files, tmp_path, monkeypatch, given):
    """The recipe resolves its file once: not again to fingerprint it, read it or rebuild it."""
    sniffed = []
    sniff = formats.sniff
    monkeypatch.setattr(formats, "sniff", lambda path: sniffed.append(path) or sniff(path))
    source = str(files["glove"]) if given == "bare" else f"glove:{files['glove']}"
    assert cli.main(["build-index", "g", "--from", source, "--catalog", str(tmp_path / "c")]) == 0
    assert sniffed == [files["glove"]]


def test_build_s_word2vec_option_is_resolved_by_its_recipe(files, tmp_path, monkeypatch):
    sniffed = []
    sniff = formats.sniff
    monkeypatch.setattr(formats, "sniff", lambda path: sniffed.append(path) or sniff(path))
    mine, cat = tmp_path / "my.toml", tmp_path / "c"
    mine.write_text('[spaces.w2v]\nkind = "word2vec"\n')
    assert cli.main(["build", "--catalog", str(cat), "--spec", str(mine), "--word2vec",
                     f"word2vec:{files['w2v']}", "--no-learning-curve"]) == 0
    manifest = catalog.read_manifest(catalog.resolve(cat, "w2v"))
    assert manifest["source"]["path"] == str(files["w2v"]) and manifest["details"]["kind"] == "word2vec"
    assert sniffed == [files["w2v"]]


def test_global_options_before_or_after_the_command(files, tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    assert cli.main(["--catalog", str(before), "build-index", "m", "--from", f"word2vec:{files['w2v']}"]) == 0
    assert cli.main(["build-index", "m", "--catalog", str(after), "--from", f"word2vec:{files['w2v']}"]) == 0
    assert (before / "m").is_dir() and (after / "m").is_dir()
    assert cli.main(["verify", "--catalog", str(after)]) == 0


@pytest.mark.parametrize("rows, stored", [("0", None), ("5", 5), ("1000", 28)])
def test_topk_rows_sets_how_many_frequent_words_get_stored_neighbours(files, tmp_path, rows, stored):
    cat = tmp_path / "c"
    assert cli.main(["build-index", "g", "--from", f"glove:{files['glove']}", "--topk-rows", rows,
                     "--catalog", str(cat)]) == 0
    topk = catalog.read_manifest(catalog.resolve(cat, "g"))["topk"]
    assert (topk and topk["rows"]) == stored
    assert cli.main(["verify", "--catalog", str(cat)]) == 0


def test_negative_topk_rows_is_a_usage_error(files, tmp_path, capsys):
    assert cli.main(["build-index", "g", "--from", f"glove:{files['glove']}", "--topk-rows", "-1",
                     "--catalog", str(tmp_path)]) == 2
    assert "--topk-rows must be 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_names_and_factories_are_refused_before_the_file_is_read(tmp_path, capsys):
    # the file does not exist: an error about it would mean it was looked at first
    missing = tmp_path / "missing.txt"
    assert cli.main(["build-index", "bad name", "--from", f"glove:{missing}", "--catalog", str(tmp_path)]) == 2
    assert "space name 'bad name'" in capsys.readouterr().err
    big = tmp_path / "big.txt"
    big.write_text("3 4\n" + "w 1 2 3 4\n")  # the header says dimension 4; the rest is never read
    assert cli.main(["build-index", "ok", "--from", f"word2vec:{big}", "--index", "HNSW3x",
                     "--catalog", str(tmp_path)]) == 2
    assert "faiss does not accept the index factory 'HNSW3x' (not a factory string" in capsys.readouterr().err
    assert cli.main(["build-index", "ok", "--from", f"word2vec:{big}", "--index", "IVF16,PQ3",
                     "--catalog", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "faiss does not accept the index factory 'IVF16,PQ3' for 4-dimensional vectors:" in err
    assert len(err.splitlines()) == 1 and "Error in" not in err and ".cpp" not in err
    assert not (tmp_path / "ok").exists()


def test_build_index_tasks_are_refused_before_the_file_is_read(tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    assert cli.main(["build-index", "m", "--from", f"keras:{missing}", "--task", "nope",
                     "--catalog", str(tmp_path)]) == 2
    assert ("--task nope: choose from sentiment, clickbait (the default spec's tasks), or give "
            "your labelled texts with --task-data FILE.csv") in capsys.readouterr().err
    assert cli.main(["build-index", "m", "--from", f"keras:{missing}", "--task-data",
                     str(tmp_path / "none.csv"), "--catalog", str(tmp_path)]) == 2
    assert f"--task-data {tmp_path / 'none.csv'}: no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_serve_help_names_its_options_and_the_environment():
    run = subprocess.run([sys.executable, "-m", "service.cli", "serve", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    for option in ("--host", "--port", "--workers", "--catalog"):
        assert option in run.stdout
    for variable in ("WORDSPACE_CATALOG", "WORDSPACE_PORT", "WORDSPACE_WORKERS", "WORDSPACE_API_KEYS"):
        assert variable in run.stdout


@pytest.fixture
def broken_default_spec(tmp_path, monkeypatch):
    """The repository's default.toml broken (a section never closed), as a bad edit leaves it."""
    from service.builder import spec

    broken = tmp_path / "default.toml"
    broken.write_text("[spaces.word2vec\nkind = ")
    monkeypatch.setattr(spec, "DEFAULT_SPEC", broken)
    return broken


def test_a_broken_default_spec_stops_only_the_commands_that_read_it(broken_default_spec, tmp_path,
                                                                    capsys):
    with pytest.raises(SystemExit) as shown:
        cli.main(["serve", "--help"])
    assert shown.value.code == 0 and "--port" in capsys.readouterr().out
    assert cli.main(["settings"]) == 0
    assert "WORDSPACE_CATALOG=" in capsys.readouterr().out
    with pytest.raises(SystemExit) as shown:  # the help still shows, without the spec's names
        cli.main(["build", "--help"])
    assert shown.value.code == 0 and "--spaces" in capsys.readouterr().out
    assert cli.main(["build", "--catalog", str(tmp_path / "c"), "--no-learning-curve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken_default_spec) in err[0] and "Traceback" not in err[0]


def test_a_user_s_spec_is_read_once(files, tmp_path, monkeypatch, capsys):
    from service.builder import spec

    parsed = []
    parse = spec.parse
    monkeypatch.setattr(spec, "parse", lambda raw, path: parsed.append(path) or parse(raw, path))
    mine = tmp_path / "my.toml"
    mine.write_text(f'[spaces.mine]\nkind = "vectors"\nsource = "{files["glove"]}"\n'
                    'format = "glove"\n')
    assert cli.main(["build", "--catalog", str(tmp_path / "c"), "--spec", str(mine),
                     "--no-learning-curve"]) == 0
    assert parsed.count(mine) == 1
    assert "mine" in capsys.readouterr().out


def test_export_offline_is_the_route_s_bytes(catalog_dir, client, tmp_path):
    for fmt in ("projector", "word2vec"):
        out = tmp_path / f"toy.{fmt}"
        assert cli.main(["export", "toy", "--format", fmt, "--out", str(out), "--limit", "50",
                         "--catalog", str(catalog_dir)]) == 0
        served = client.get(f"/v1/spaces/toy/export?format={fmt}&limit=50").data
        if fmt == "word2vec":
            assert out.read_bytes() == served
        else:
            with zipfile.ZipFile(out) as z, zipfile.ZipFile(io.BytesIO(served)) as s:
                for name in ("vectors.tsv", "metadata.tsv"):
                    assert z.read(name) == s.read(name)
                vectors = np.loadtxt(z.open("vectors.tsv"), delimiter="\t")
                assert vectors.shape == (50, 16)


def test_settings_prints_each_variable_under_its_help_and_the_value_in_force(monkeypatch, capsys):
    monkeypatch.setenv("WORDSPACE_MAX_K", "50")
    monkeypatch.setenv("WORDSPACE_API_KEYS", "secret-key")
    assert cli.main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("WORDSPACE_MAX_K=1000  # now 50")
    assert lines[at - 1].startswith("# ") and "k" in lines[at - 1]  # its help, above it
    assert "WORDSPACE_PORT=8000" in lines  # a default in force: no "now"
    assert "WORDSPACE_API_KEYS=  # now (set)" in lines and not any("secret-key" in l for l in lines)
