"""The catalog spec: the default spec declares the six spaces, a user's spec parses with its
paths relative to the file, every mistake is one line naming the entry, the key and what is
allowed, the options `--task-data`, `--word2vec` and `--corpus` become spec entries, and
`build-index` is a one-entry spec through the runner (cached when nothing changed, rebuilt
when an option does)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from service import cli
from service.cli import build as build_commands
from service.builder.file_recipe import Resolved
from service.builder.recipe import BuildOptions
from service.builder.recipes import recipe, recipes_for
from service.builder.spec import DEFAULT_SPEC, SpecError, load_spec
from service.store import catalog, experiments
from service.store.kinds import KINDS
from tests.support.tables import toy_table


def test_the_default_spec_declares_the_six_spaces():
    spec = load_spec()
    assert {n: s.kind for n, s in spec.spaces.items()} == {
        "word2vec": "word2vec", "glove": "glove", "sentiment": "task", "sentiment-w2v": "task",
        "clickbait": "task", "clickbait-w2v": "task"}
    assert spec.curve_tasks() == ("clickbait",)
    assert spec.spaces["clickbait-w2v"].start == "word2vec"
    recipes = recipes_for(BuildOptions(catalog=Path("unused")))
    assert [r.name for r in recipes] == list(spec.spaces)
    assert {r.name: r.needs for r in recipes}["sentiment-w2v"] == ("word2vec",)
    assert DEFAULT_SPEC.parent.name == "builder"  # package data: the container image has it


def _spec(tmp_path, text: str) -> Path:
    path = tmp_path / "my.toml"
    path.write_text(text)
    return path


def test_a_user_spec_with_includes_and_relative_paths(tmp_path):
    spec = load_spec(_spec(tmp_path, """
include = ["default"]
[tasks.glosses]
data = "data/glosses.csv"
text_column = "gloss"
curve = true
[spaces.mine]
kind = "task"
source = "models/mine.keras"
task = "glosses"
standardize = "mymodule:clean"
factory = "HNSW32"
"""))
    assert list(spec.spaces)[:6] == list(load_spec().spaces) and "mine" in spec.spaces
    assert spec.tasks["glosses"].data == str(tmp_path / "data" / "glosses.csv")
    assert spec.tasks["glosses"].text_column == "gloss"
    mine = spec.spaces["mine"]
    assert mine.source == str(tmp_path / "models" / "mine.keras") and not mine.made_here
    assert spec.curve_tasks() == ("clickbait", "glosses")


@pytest.mark.parametrize("text, says", [
    ("[spaces.x]\nkind = \"keras\"\nsource = \"m.keras\"",
     "my.toml: [spaces.x] kind = 'keras': allowed: task, word2vec, glove, vectors"),
    ("[spaces.x]\nsource = \"v.bin\"", "[spaces.x]: kind is required; allowed: task, word2vec"),
    ("[spaces.x]\nkind = \"vectors\"\nsource = \"v.bin\"\nformat = \"bin\"",
     "[spaces.x] format = 'bin': allowed: word2vec, glove"),
    ("[spaces.x]\nkind = \"glove\"", "[spaces.x]: a glove space needs a source"),
    ("[spaces.x]\nkind = \"task\"\ntask = \"nope\"", "[spaces.x] task = 'nope': no such task"),
    ("[spaces.x]\nkind = \"task\"", "[spaces.x]: a task space made here needs task"),
    ("[spaces.x]\nkind = \"vectors\"\nsource = \"v.bin\"\nlimt = 3",
     "[spaces.x]: unknown key 'limt'; allowed: kind, source, format"),
    ("[spaces.x]\nkind = \"vectors\"\nsource = \"v.bin\"\nlimit = \"3\"",
     "[spaces.x] limit = '3': must be an integer"),
    ("[spaces.x]\nkind = \"vectors\"\nsource = \"v.bin\"\nlayer = \"emb\"",
     "[spaces.x]: layer applies only to the formats keras, savedmodel"),
    ("[spaces.x]\nkind = \"word2vec\"\nstart = \"y\"", "[spaces.x]: start applies only to a task"),
    ("[tasks.t]\ndataset = \"imdb\"", "[tasks.t] dataset = 'imdb': allowed: rotten-tomatoes, clickbait"),
    ("[tasks.t]\ncurve = true", "[tasks.t]: give one of data"),
    ("[tasks.t]\ndata = \"t.csv\"\ncurve = \"yes\"", "[tasks.t] curve = 'yes': must be true or false"),
    ("include = [\"defaults\"]", "include = ['defaults']; allowed: a list of 'default'"),
    ("include = [\"default\"]\n[spaces.glove]\nkind = \"glove\"\nsource = \"g.txt\"",
     "[spaces.glove]: already declared (by an include)"),
    ("[space.x]\nkind = \"glove\"", "my.toml: unknown key 'space'; allowed: include, tasks, spaces"),
    ("[spaces.x\nkind = 1", "my.toml: not valid TOML"),
    ("[spaces.\"bad name\"]\nkind = \"task\"", "[spaces.bad name]"),
])
def test_each_mistake_is_one_line_naming_entry_key_and_what_is_allowed(tmp_path, text, says):
    with pytest.raises(SpecError) as e:
        load_spec(_spec(tmp_path, text))
    assert says in str(e.value) and "\n" not in str(e.value)


def test_a_mistake_in_the_spec_is_one_line_from_the_command(tmp_path, capsys):
    path = _spec(tmp_path, "[spaces.x]\nkind = \"keras\"\nsource = \"m.keras\"")
    assert cli.main(["--catalog", str(tmp_path / "c"), "build", "--spec", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[spaces.x] kind = 'keras'" in err[0]
    assert all(kind in err[0] for kind in KINDS)  # says which kinds there are
    path = _spec(tmp_path, "[spaces.x]\nkind = \"vectors\"\nsource = \"gone.txt\"\nformat = \"glove\"")
    assert cli.main(["--catalog", str(tmp_path / "c"), "build", "--spec", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"space x: {tmp_path / 'gone.txt'}: no such file" in err[0]


def _args(**kw) -> argparse.Namespace:
    base = dict(spec=None, word2vec=None, corpus=[], task_data=None)
    return argparse.Namespace(**{**base, **kw})


def test_older_build_options_become_spec_entries(tmp_path):
    (tmp_path / "reviews.csv").write_text("text,label\na,x\nb,y\n")
    spec = build_commands.spec_from_args(_args(task_data=str(tmp_path / "reviews.csv")))
    assert spec.tasks["reviews"].data == str(tmp_path / "reviews.csv")
    assert (spec.spaces["reviews"].kind, spec.spaces["reviews-w2v"].start) == ("task", "word2vec")
    with pytest.raises(ValueError, match="rename the file"):
        build_commands.spec_from_args(_args(task_data=str(tmp_path / "clickbait")))
    t = toy_table()
    vectors = tmp_path / "v.txt"
    vectors.write_text(f"{len(t.index_to_key)} {t.vector_size}\n" + "".join(
        f"{w} {' '.join(map(str, v))}\n" for w, v in zip(t.index_to_key, t.vectors)))
    spec = build_commands.spec_from_args(_args(word2vec=f"word2vec:{vectors}"))
    w2v = recipe(spec.spaces["word2vec"])  # the recipe resolves the source
    assert w2v.resolved == Resolved("word2vec", str(vectors), False)
    assert (w2v.space.kind, w2v.space.format, w2v.space.source) == ("word2vec", "word2vec", str(vectors))


def test_the_spaces_help_lists_the_spaces_of_the_spec_in_use(tmp_path, capsys):
    path = _spec(tmp_path, "[spaces.mine]\nkind = \"vectors\"\nsource = \"v.txt\"")
    with pytest.raises(SystemExit):
        cli.main(["build", "--spec", str(path), "--help"])
    out = capsys.readouterr().out
    assert "subset of mine (default all)" in out.replace("\n", " ").replace("  ", " ")
    with pytest.raises(SystemExit):
        cli.main(["experiment", "learning-curve", "--help"])
    out = capsys.readouterr().out
    assert all(o in out for o in ("--sizes", "--starts", "--inits", "--seeds", "--curve-seeds",
                                  "sentiment, clickbait"))


def test_build_index_is_cached_until_its_file_or_an_option_changes(tmp_path, capsys):
    t = toy_table(n_noise=20)
    vectors = tmp_path / "g.txt"
    vectors.write_text("".join(f"{w} {' '.join(map(str, v))}\n"
                               for w, v in zip(t.index_to_key, t.vectors)))
    cat = tmp_path / "c"
    argv = ["--catalog", str(cat), "build-index", "g", "--from", f"glove:{vectors}"]
    assert cli.main(argv) == 0
    first = catalog.resolve(cat, "g")
    manifest = catalog.read_manifest(first)
    assert manifest["details"]["kind"] == "glove" and len(manifest["details"]["fingerprint"]) == 64
    assert "evaluation.json" in manifest["files"]
    capsys.readouterr()
    assert cli.main(argv) == 0
    assert catalog.resolve(cat, "g") == first and "up to date" in capsys.readouterr().out
    assert cli.main(argv + ["--topk-rows", "5"]) == 0  # an index option changed: rebuilt
    second = catalog.resolve(cat, "g")
    assert second != first and catalog.read_manifest(second)["topk"]["rows"] == 5
    assert cli.main(argv + ["--topk-rows", "5", "--kind", "vectors"]) == 0
    assert catalog.read_manifest(catalog.resolve(cat, "g"))["details"]["kind"] == "vectors"
    assert experiments.read_experiment(cat, experiments.LAST_BUILD) is None  # build-index is no build


def test_the_contract_lists_the_kinds():
    import yaml

    from tests.support import ROOT

    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert tuple(contract["components"]["schemas"]["Kind"]["enum"]) == KINDS


def test_spaces_published_before_kinds_were_fixed_get_one_of_them():
    from service.store.kinds import kind_of

    assert kind_of({"kind": "keras"}, {}) == "task"
    assert kind_of({}, {"format": "kumo"}) == "glove"
    assert kind_of({"kind": "gensim"}, {"format": "gensim"}) == "vectors"
    assert kind_of({}, {}) == "vectors"
    assert kind_of({"kind": "word2vec"}, {"format": "glove"}) == "word2vec"
