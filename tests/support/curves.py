"""Learning curves summarised from synthetic runs by service/builder/learning_curve.py's own
summary, so their shapes are the build's."""
from __future__ import annotations

from service.builder.learning_curve import SLICES, summarize
from service.store import experiments

def synthetic_curve(task: str, gain: float) -> dict:
    """Three paired seeds at two sizes; word2vec beats scratch by `gain` on every seed."""
    runs = []
    for size in (50, 1000):
        for seed in range(3):
            for init, bonus in (("scratch", 0.0), ("word2vec", gain)):
                acc = round(0.7 + 0.1 * (size == 1000) + bonus + 0.02 * seed, 4)
                runs.append({"init": init, "size": size, "seed": seed, "accuracy": acc, "steps": 300,
                             "slices": {k: {"texts": 10 * (i + 1), "accuracy": acc} for i, k in enumerate(SLICES)}})
    return {"experiment": "learning-curve", "task": task, "dataset": task,
            "split": {"train": 1000, "validation": 100, "test": 200}, "classifier": {},
            "grid": {"sizes": [50, 1000], "inits": ["scratch", "word2vec"], "seeds": [0, 1, 2]},
            "inits": {"scratch": {"start": None}, "word2vec": {"start": "word2vec"}},
            "glove_rows": 100000, "rows": summarize(runs), "runs": len(runs), "seconds": 1.0}


def write_curves(cat) -> None:
    experiments.write_experiment(cat, f"{experiments.LEARNING_CURVE}-clickbait", synthetic_curve("clickbait", 0.05))
    experiments.write_experiment(cat, f"{experiments.LEARNING_CURVE}-sentiment", synthetic_curve("sentiment", 0.0))
    # A curve in the format before one file per task: not a task's curve, left alone.
    experiments.write_experiment(cat, experiments.LEARNING_CURVE, {"rows": [{"size": 1}]})
