"""The spaces of a spec (service/builder/spec.py) as recipes: one entry per space.

A recipe (service/builder/recipe.py) names the space, the spaces it is made from (`needs`),
the inputs its fingerprint is made of, and how to make its table. service/builder/runner.py
orders the recipes by need, skips a space whose published fingerprint matches, makes the
others and publishes each with its scorecard. Three ways to make a space, chosen by its spec entry:

    Word2Vec    made here, kind word2vec: gensim skip-gram on packaged English text (+ its
                corpus files)
    TaskModel   made here, kind task: the Embedding of a classifier trained on the task's
                data, from scratch or started from another space (union vocabulary)
    FromFile    source (or format kumo): read from the file, its format resolved once; a
                Keras model with a task is run on the task's test split for its own held-out
                accuracy (service/builder/file_recipe.py)

Experiments (the learning curve) are not spaces: service/builder/learning_curve.py, with a cache
of their own, never part of a space's fingerprint.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from service.builder import corpus as corpora
from service.builder import steps
from service.builder.classifier import train_classifier
from service.builder.classifier_vocabulary import Start
from service.builder.file_recipe import FromFile
from service.builder.postprocess import PostProcess
from service.builder.recipe import BuildOptions, Context, Made, Recipe
from service.builder.spec import SpaceSpec
from service.builder.word2vec import Word2VecSettings, train_word2vec
from service.store.embed import EMBED_FILE


def recipes_for(options: BuildOptions) -> tuple[Recipe, ...]:
    """A recipe for each space of the spec, in the spec's order."""
    return tuple(recipe(s) for s in options.spec.spaces.values())


def recipe(s: SpaceSpec) -> Recipe:
    if not s.made_here:
        return FromFile(s)
    if s.kind == "word2vec":
        return Word2Vec(s)
    return TaskModel(s)



# word2vec made here -----------------------------------------------------------------------

def _word2vec_sources(s: SpaceSpec) -> list:
    return corpora.default_sources() + corpora.user_sources([Path(c) for c in s.corpus])


def _trained_settings(o: BuildOptions) -> Word2VecSettings:
    """The settings to train with: --postprocess, when given, replaces the default one."""
    if o.postprocess is None:
        return o.word2vec_settings
    post = PostProcess.option(o.postprocess)
    return dataclasses.replace(o.word2vec_settings, postprocess=post and o.postprocess)


class Word2Vec(Recipe):
    """gensim skip-gram on packaged English text (+ the entry's corpus files)."""

    def __init__(self, s: SpaceSpec):
        super().__init__(s.name, (), s)

    def inputs(self, ctx: Context) -> dict:
        s = self.space
        return {"corpus": corpora.fingerprint(_word2vec_sources(s)),
                "settings": dataclasses.asdict(_trained_settings(ctx.options))}

    def make(self, ctx: Context) -> Made:
        s = self.space
        with steps.step("read word2vec corpus"):
            text = corpora.load_corpus(_word2vec_sources(s))
        with steps.step(f"train word2vec on {text.tokens} tokens"):
            table = train_word2vec(text, _trained_settings(ctx.options))
        return Made(table, {"format": "word2vec", "trained": "gensim"}, dict(table.details))


# task spaces made here --------------------------------------------------------------------

class TaskModel(Recipe):
    """The Embedding of a classifier trained on the task's data, from scratch or started from
    the space `start` with the union vocabulary: every word of the start stays in the space."""

    def __init__(self, s: SpaceSpec):
        super().__init__(s.name, (s.start,) if s.start else (), s)

    def inputs(self, ctx: Context) -> dict:
        s, o = self.space, ctx.options
        settings = dataclasses.replace(o.classifier, verbose=0)
        return {"task": s.task, "data": ctx.task_data(s.task).sha256, "limit": o.limit,
                "init": s.start or "scratch", "vocabulary": "union" if s.start else "training",
                "classifier": dataclasses.asdict(settings)}

    def make(self, ctx: Context) -> Made:
        from service.builder.keras_table import read_keras  # imports TensorFlow

        s, o = self.space, ctx.options
        data_split = ctx.task_split(s.task)
        start = Start(s.start, ctx.table(s.start)) if s.start else Start()
        with steps.step(f"train classifier {s.name} on {len(data_split.train)} texts"):
            result = train_classifier(data_split, o.cache / "models" / s.name, o.classifier, start)
        table = read_keras(result.model_path)
        own = {k: v for k, v in table.details.items() if k != "embed"}  # embed.json: below
        details = {"task_description": o.spec.tasks[s.task].description or s.task,
                   **own, **data_split.describe(), **result.describe(),
                   "model_path": str(result.model_path),
                   "classifier": dataclasses.asdict(dataclasses.replace(o.classifier, verbose=0))}
        if s.start:
            details[s.start] = {k: start.table.details.get(k)
                                for k in ("algorithm", "wordsim353", "vocabulary", "path")}
        source = {"format": "keras", "path": str(result.model_path),
                  "dataset": data_split.train.name}
        return Made(table, source, details, {EMBED_FILE: result.embed_path})
