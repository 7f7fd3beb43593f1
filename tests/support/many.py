"""A catalog of 16 spaces: the three of tests/support/scored.py (meaning, task, blend; verdict known by
construction) and 13 more in between, as a user's catalog of the six defaults plus their own
would be. Space i of the 13 mixes the meaningful WordSim353 vectors with random ones in
proportion i/12, so its WordSim353 ρ climbs from about zero to `meaning`'s; every third is a
task space (kind task, its task in the metadata, sentiment words split), the others a word2vec
or glove kind. With `scored_extras`, each stores the scorecard a build would (probe on the
build's task texts, whatever its kind); the task spaces listed in NO_TASK_DATA store none,
as an imported model without labelled texts, and get "no task data" in the verdict. The
13 are the user's (`details["built_in"]` false); `extra` writes only the first ones (7: a
catalog of 10).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from service.analysis import scorecard
from service.store import catalog
from service.store.tables import Table
from tests.support import scored
from tests.support.tables import task_texts

KINDS = ("task", "word2vec", "glove")
PREFIX = {"task": "user-classifier", "word2vec": "w2v-variant", "glove": "glove-variant"}
EXTRA = [f"{PREFIX[KINDS[i % 3]]}-{i:02d}" for i in range(13)]
NO_TASK_DATA = (EXTRA[9], EXTRA[12])  # task spaces without labelled texts
NAMES = sorted([*scored.SPACES, *EXTRA])  # as /v1/spaces lists them


def _mixed(i: int) -> dict[str, np.ndarray]:
    good, noise = scored._wordsim(True), scored._wordsim(False)
    share = (i / 12) ** 0.5
    return {w: share * good[w] + (1 - share) * noise[w] for w in good}


def write_many_catalog(cat: Path, tmp: Path, scored_extras: bool = True,
                       extra: int = len(EXTRA)) -> Path:
    scored.write_scored_catalog(cat, tmp)
    texts, labels = task_texts()
    for i, name in enumerate(EXTRA[:extra]):
        kind = KINDS[i % 3]
        words = scored._blocks(_mixed(i), scored._sentiment(kind == "task"), scored._toy())
        table = Table(list(words), np.array(list(words.values()), dtype="float32"))
        details = {"kind": kind, "built_in": False}
        if kind == "task":
            details.update(task=scored.DATASET, dataset=scored.DATASET)
        extra = {}
        if scored_extras and name not in NO_TASK_DATA:
            card = scorecard.evaluate_space(scorecard.as_space(table, name), (texts, labels),
                                            task_name=scored.DATASET, source="build",
                                            tasks=scored.tasks())
            path = scorecard.write_evaluation(card, tmp / f"{name}.json")
            extra = {scorecard.EVALUATION_FILE: path}
        catalog.write_space(cat, name, table, source={"format": "test"}, details=details,
                            extra_files=extra)
    return cat
