"""The PTB learning-rate grid: every mode at every learning rate, and each mode's pick.

A run ends in one of two files in its work directory, and is not trained again by a
later call once it has either:

    results.json    it finished (`trainer.train_and_evaluate` wrote its History)
    diverged.json   the divergence guard stopped it, {"message": ...}: the learning rate
                    is too large for the mode. It shows as "diverged" in the grid table
                    and is never picked.
"""

import dataclasses
import json
import os

from absl import logging

from ptb_rnn import callbacks, files, reader, trainer
from ptb_rnn.experiments.plan import GridPoint
from ptb_rnn.history import History
from ptb_rnn.spec import RunSpec

DIVERGED_FILE = "diverged.json"


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of the grid, once trained.

    Attributes:
      mode: a name in `truncation.MODES`.
      learning_rate: the run's constant learning rate.
      history: what the run measured; None if it diverged.
    """

    mode: str
    learning_rate: float
    history: History | None

    @property
    def diverged(self) -> bool:
        return self.history is None

    @property
    def num_steps(self) -> str:
        """The window length, or the schedule's lengths joined by arrows: "1→2→5"."""
        schedule = self.history.truncation["schedule"]
        return "→".join(map(str, schedule)) if schedule else str(self.history.config["num_steps"])

    @property
    def selection_perplexity(self) -> float:
        """Validation perplexity under the state handling the model was trained with."""
        return self.history.eval["trained_state"]["valid"]


def run_once(spec: RunSpec, corpus: reader.Corpus, workdir: str) -> History | None:
    """Trains one run, or reads how it ended if it ended before.

    Args:
      spec: the run; `spec.check(corpus)` must have passed.
      corpus: the three splits.
      workdir: the run's work directory.

    Returns:
      The run's History (read from results.json if the run finished before), or None if
      it diverged, now (then recorded in diverged.json) or before.
    """
    results = files.read_json(os.path.join(workdir, files.RESULTS_FILE))
    if results is not None:
        return _history_from_results(results, spec)
    if os.path.exists(os.path.join(workdir, DIVERGED_FILE)):
        return None
    try:
        return trainer.train_and_evaluate(spec, corpus, workdir)
    except callbacks.Diverged as e:
        logging.warning("Diverged: %s", e)
        files.write_json(os.path.join(workdir, DIVERGED_FILE), {"message": str(e)})
        return None


def _history_from_results(results: dict, spec: RunSpec) -> History:
    """The History a results.json holds.

    Older results.json files lack the truncation (and could lack the config): the run
    trained with the spec's, which stand in.
    """
    given = {
        "config": dataclasses.asdict(spec.config),
        "truncation": dataclasses.asdict(spec.truncation),
    }
    given = json.loads(json.dumps(given))  # tuples become lists, as in results.json
    return History.from_json({**given, **results})


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
        logging.info("Run: %s, learning rate %g", point.mode, point.learning_rate)
        history = run_once(point.spec, corpus, point.workdir)
        runs.append(Run(point.mode, point.learning_rate, history))
    return runs


def best_runs(runs: list[Run]) -> list[Run]:
    """Per mode, the run with the lowest validation perplexity, in the order given.

    Diverged runs are never picked: a mode whose every run diverged has no pick.
    """
    best = {}
    for run in runs:
        if run.diverged:
            continue
        if run.mode not in best or run.selection_perplexity < best[run.mode].selection_perplexity:
            best[run.mode] = run
    return list(best.values())
