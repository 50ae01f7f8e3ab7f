"""Trains the runs of the experiments (the learning-rate grid, the full-scale runs).

A run ends in results.json or diverged.json in its work directory (see results.py) and
is not trained again by a later call once it has either; a work directory holding
another run is refused (`results.check_same_run`).
"""

import os

from absl import logging

from ptb_rnn import files, reader
from ptb_rnn.experiments.plan import GridPoint
from ptb_rnn.experiments.results import DIVERGED_FILE, Run, check_same_run, read_history
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import callbacks, trainer
from ptb_rnn.training.history import History


def run_once(spec: RunSpec, corpus: reader.Corpus, workdir: str) -> History | None:
    """Trains one run, or reads how it ended if it ended before.

    Args:
      spec: the run; `spec.check(corpus)` must have passed.
      corpus: the three splits.
      workdir: the run's work directory.

    Returns:
      The run's History (read from results.json if the run finished before), or None if
      it diverged, now (then recorded in diverged.json) or before.

    Raises:
      files.WorkdirError: workdir holds another run.
    """
    check_same_run(spec, corpus, workdir)
    history = read_history(workdir)
    if history is not None:
        return history
    if os.path.exists(os.path.join(workdir, DIVERGED_FILE)):
        return None
    with files.locked(workdir):
        try:
            return trainer.train_and_evaluate(spec, corpus, workdir)
        except callbacks.Diverged as e:
            logging.warning("Diverged: %s", e)
            files.write_json(os.path.join(workdir, DIVERGED_FILE), {"message": str(e)})
            return None


def run_grid(points: list[GridPoint], corpus: reader.Corpus) -> list[Run]:
    """Trains every run of the grid, reading those that ended before.

    Args:
      points: from `plan.grid_points`, each checked against corpus.
      corpus: the three splits.

    Returns:
      One Run per point, in the same order.
    """
    runs = []
    for point in points:
        logging.info(
            "Run: %s, learning rate %g, seed %d", point.mode, point.learning_rate, point.spec.seed
        )
        history = run_once(point.spec, corpus, point.workdir)
        runs.append(Run(point.mode, point.learning_rate, history, point.spec.seed))
    return runs
