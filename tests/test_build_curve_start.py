"""A user's spec without a word2vec space of its own still gets its task's learning curve:
the curve starts from the default spec's word2vec, taken from the catalog when published
there, else built; its hints name only options the command has."""
from __future__ import annotations

import argparse
import csv
import re

import pytest

from service import cli
from service.cli import build as build_commands
from service.builder import commands
from service.builder.recipe import BuildOptions
from service.builder.spec import load_spec
from service.store import catalog, experiments
from tests.support import keras_models as km
from tests.support.tables import toy_table

SPEC = """
[tasks.reviews]
data = "reviews.csv"
curve = true

[spaces.mine]
kind = "task"
task = "reviews"
"""


def _spec(tmp_path, text=SPEC):
    with open(tmp_path / "reviews.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows((f"{'good fine nice' if i % 2 else 'bad poor dull'} film {i}", i % 2)
                    for i in range(300))
    (tmp_path / "my.toml").write_text(text)
    return load_spec(tmp_path / "my.toml")


def _publish_word2vec(cat, kind="word2vec"):
    catalog.write_space(cat, "word2vec", toy_table(n_noise=40), source={"format": "test"},
                        details={"kind": kind})


def _options(tmp_path, spec):
    return BuildOptions(catalog=tmp_path / "cat", spec=spec)


def test_a_spec_without_word2vec_starts_from_the_default_one(tmp_path):
    options = _options(tmp_path, _spec(tmp_path))
    with_default, how = commands.with_default_starts(options)
    assert how == {"word2vec": "build"}  # not published: the default entry is built
    assert with_default.spec.spaces["word2vec"] == load_spec().spaces["word2vec"]
    assert commands.curve_starts(with_default) == {"word2vec": "word2vec"}
    _publish_word2vec(tmp_path / "cat")
    assert commands.with_default_starts(options)[1] == {"word2vec": "catalog"}


def _options_of(parser_name: str) -> set[str]:
    parser = argparse.ArgumentParser()
    build_commands.register(parser.add_subparsers(), argv=[])
    sub = parser._subparsers._group_actions[0].choices
    chosen = sub[parser_name] if parser_name == "build" else sub["experiment"]._subparsers._group_actions[0].choices["learning-curve"]
    return set(chosen._option_string_actions)


@pytest.mark.parametrize("command, hint", [("build", commands.BUILD_HINT),
                                           ("learning-curve", commands.EXPERIMENT_HINT)])
def test_hints_name_only_options_the_command_has(tmp_path, command, hint):
    spec = _spec(tmp_path, SPEC + '\n[spaces.word2vec]\nkind = "vectors"\nsource = "v.txt"\n')
    with pytest.raises(ValueError) as refused:
        commands.with_default_starts(_options(tmp_path, spec), hint)
    message = str(refused.value)
    assert "'word2vec' is not the default one to start from" in message
    named = set(re.findall(r"--[a-z-]+", message))
    assert named and named <= _options_of(command), (named, message)
    _publish_word2vec(tmp_path / "cat", kind="vectors")
    with pytest.raises(ValueError, match="the catalog's 'word2vec' is not one"):
        commands.with_default_starts(_options(tmp_path, _spec(tmp_path)), hint)


@km.needs_keras
@pytest.mark.slow
def test_build_runs_the_curve_from_the_catalog_s_word2vec(tmp_path, capsys):
    _spec(tmp_path)
    cat = tmp_path / "cat"
    _publish_word2vec(cat)
    published = catalog.read_manifest(catalog.resolve(cat, "word2vec"))
    assert cli.main(["--catalog", str(cat), "build", "--spec", str(tmp_path / "my.toml"),
                     "--seeds", "1", "--max-steps", "20", "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "(curve reviews)" in out and out.count("reviews: test accuracy") == 1
    assert "task reviews: held-out split seed 0 (stratified 70/10/20): 210 train, 30 validation, " \
           "60 test texts" in out
    curve = experiments.read_experiment(cat, "learning-curve-reviews")
    # sizes 50, 100 and all 210 training texts, two starts, one seed
    assert curve["grid"]["inits"] == ["scratch", "word2vec"] and curve["runs"] == 6
    # started from the published space, which the build left as it was
    assert catalog.read_manifest(catalog.resolve(cat, "word2vec")) == published
