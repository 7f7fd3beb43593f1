"""`wordspace build-index` (one space from a file, through the build's runner) and `verify`."""
from __future__ import annotations

from pathlib import Path

from service.builder import runner
from service.builder.recipe import BuildOptions
from service.builder.spec import Spec, SpaceSpec, TaskSpec, load_spec
from service.errors import BadIndex, InputError
from service.store import catalog, formats
from service.store import index as ix
from service.store import topk
from service.settings import Settings
from service.store.kinds import KINDS


def register(sub, settings, argv) -> None:
    p = sub.add_parser("build-index", help="build one space from an embedding table")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True, metavar="FORMAT:PATH",
                   help=formats.help_text())
    p.add_argument("--index", dest="factory", metavar="FACTORY",
                   help=f"faiss factory string (default: Flat up to {ix.EXACT_LIMIT:,} rows, HNSW32 "
                        f"up to {ix.GRAPH_LIMIT:,}, IVF above: {ix.default_factory(3_000_000)} for 3M)")
    p.add_argument("--limit", type=int, help="keep only the first N rows")
    p.add_argument("--target-recall", type=float, default=ix.TARGET_RECALL, metavar="R",
                   help="tune efSearch/nprobe to reach this recall@10 (default %(default)s)")
    p.add_argument("--topk-rows", type=int, metavar="N",
                   help=f"store the exact top-{topk.K} of the first N rows (0: none; default up to "
                        f"{topk.ROWS:,} within a build budget that gives large tables fewer or none)")
    p.add_argument("--layer", help=f"{_taking('layer')}: name of the Embedding layer")
    p.add_argument("--vocab", type=Path, help=f"{_taking('vocab')}: vocabulary file, one word "
                   "per line in row order")
    p.add_argument("--standardize", metavar="MODULE:FUNCTION",
                   help=f"{_taking('standardize')}: the model's custom standardize function")
    p.add_argument("--sentence-layer", metavar="LAYER",
                   help=f"{_taking('sentence_layer')}: the layer whose output is a sentence vector "
                        "(default: the global pooling layer, else the last layer before the "
                        "classifier head)")
    p.add_argument("--kind", choices=KINDS,
                   help="what the space is (default from the format: word2vec, glove, a Keras "
                        "model's task, else vectors)")
    p.add_argument("--task", metavar="NAME",
                   help="the task the space is scored on (a Keras model: also its own accuracy "
                        "on the task's test split): a task of the default spec "
                        "(service/builder/default.toml), or the name for --task-data")
    p.add_argument("--task-data", type=Path, metavar="FILE.csv|DIR",
                   help="labelled texts for the task: a csv with text,label columns or a "
                        "clickbait-style folder (the task is named after the file unless --task)")
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p.set_defaults(func=build_index)

    p = sub.add_parser("verify", help="check every byte of the catalog's spaces against their manifests")
    p.add_argument("names", nargs="*", help="spaces to check (default all)")
    p.set_defaults(func=verify)


def _taking(option: str) -> str:
    return ", ".join(formats.taking(option))


def build_index(args, settings: Settings) -> int:
    """One space from a file: a one-entry spec through the build's runner (fingerprint,
    caching, scorecard, index options), so a second identical run is not rebuilt."""
    # Everything that can be refused is checked before the table is read, which may take minutes.
    catalog.check_name(args.name)
    tasks = _build_index_task(args)
    if args.topk_rows is not None and args.topk_rows < 0:
        raise InputError(f"--topk-rows must be 0 or more, not {args.topk_rows}")
    # The source is resolved (its format named or guessed, the options and --index checked
    # against it) by its recipe, before the table is read.
    space = SpaceSpec(args.name, args.kind, task=next(iter(tasks), None), source=args.source,
                      layer=args.layer, vocab=str(args.vocab.resolve()) if args.vocab else None,
                      standardize=args.standardize, limit=args.limit, factory=args.factory,
                      target_recall=args.target_recall, topk_rows=args.topk_rows,
                      sentence_layer=args.sentence_layer)
    options = BuildOptions(catalog=args.catalog, spec=Spec("build-index", tasks, {args.name: space}),
                           spaces=(args.name,), curve=None, force=args.force, record=False)
    built = runner.run(options)
    [row], [recipe] = built.rows, built.plan
    fmt, path, guessed = recipe.resolved.format, recipe.resolved.path, recipe.resolved.guessed
    if guessed:
        print(f"{path}: read as {fmt} (guessed from the file; write {fmt}:{path} to say so)")
    folder = catalog.resolve(args.catalog, args.name)
    manifest = catalog.read_manifest(folder)
    note = (" (up to date: same file and options, not rebuilt; --force rebuilds)"
            if row["status"] == "cached" else "")
    print(f"{args.name}: {manifest['rows']} rows x {manifest['dimension']}, {manifest['factory']}, "
          f"recall@10 {manifest['recall_at_10']}, {manifest['build_seconds']}s -> {folder}{note}")
    return 0


def _build_index_task(args) -> dict[str, TaskSpec]:
    """The task `--task` and `--task-data` name, as a one-task spec section ({} for none)."""
    if args.task_data:
        if not args.task_data.exists():
            raise InputError(f"--task-data {args.task_data}: no such file or folder")
        name = args.task or args.task_data.stem
        return {name: TaskSpec(name, data=str(args.task_data.resolve()))}
    if args.task:
        tasks = load_spec().tasks
        if args.task not in tasks:
            raise InputError(f"--task {args.task}: choose from {', '.join(tasks)} (the default "
                             "spec's tasks), or give your labelled texts with --task-data FILE.csv")
        return {args.task: tasks[args.task]}
    return {}


def verify(args, settings: Settings) -> int:
    failed = 0
    for name in args.names or catalog.space_names(args.catalog):
        try:
            manifest = catalog.verify(catalog.resolve(args.catalog, name), full=True)
            print(f"{name}: ok ({len(manifest['files'])} files)")
        except BadIndex as e:
            print(f"{name}: FAILED {e}")
            failed += 1
    return 1 if failed else 0
