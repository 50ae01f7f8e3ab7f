"""What the runs of the experiments ended with, read from their work directories.

A run ends in one of two files in its work directory:

    results.json    it finished (`trainer.train_and_evaluate` wrote its History)
    diverged.json   the divergence guard stopped it, {"message": ...}: the learning rate
                    is too large for the mode. It shows as "diverged" in the grid table
                    and is never picked.

A work directory is reused only for the run it holds: `check_same_run` refuses one that
holds another run (the trainer's identity check, `files.check_same_run`).

This module does not import TensorFlow.
"""

import dataclasses
import os

from ptb_rnn import files, reader
from ptb_rnn.experiments.plan import GridPoint
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History

DIVERGED_FILE = "diverged.json"
ANOTHER_RUN = "delete that directory to train this run there, or choose another --output_dir."


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of the grid, once trained.

    Attributes:
      mode: a name in `truncation.MODES`.
      learning_rate: the run's constant learning rate.
      history: what the run measured; None if it diverged.
      seed: the run's seed.
    """

    mode: str
    learning_rate: float
    history: History | None
    seed: int = 0

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


def read_grid(runs_dir: str, modes: list[str]) -> list[Run]:
    """The grid's runs that ended, as a later `run_grid` would read them.

    Args:
      runs_dir: the grid's directory, with runs_dir/<mode>/lr_<learning rate>/.
      modes: the modes to read.

    Returns:
      One Run per work directory that holds results.json or diverged.json, mode by mode
      in the order given, by learning rate.
    """
    runs = []
    for mode in modes:
        mode_dir = os.path.join(runs_dir, mode)
        names = os.listdir(mode_dir) if os.path.isdir(mode_dir) else []
        for name in sorted(names, key=lambda n: float(n.removeprefix("lr_"))):
            workdir = os.path.join(mode_dir, name)
            history = read_history(workdir)
            if history is None and not os.path.exists(os.path.join(workdir, DIVERGED_FILE)):
                continue
            runs.append(Run(mode, float(name.removeprefix("lr_")), history))
    return runs


def check_same_run(spec: RunSpec, corpus: reader.Corpus, workdir: str, train: bool = True):
    """Refuses a run's work directory if it holds another run (`files.check_same_run`).

    Args:
      spec, corpus: the run.
      workdir: its work directory.
      train: False when only reading what ended: then a results.json that records no
        identity (written before runs recorded theirs, as some under results/ are) is
        read if the config and truncation it records are the run's.

    Raises:
      files.WorkdirError: workdir holds another run; the message names what differs.
    """
    identity = spec.identity(corpus)
    if not train:
        finished = files.read_json(os.path.join(workdir, files.RESULTS_FILE))
        if finished is not None and "identity" not in finished:
            found = files.differences(finished, {p: identity[p] for p in ("config", "truncation")})
            if found:
                raise files.WorkdirError(
                    f"{workdir} holds the {files.RESULTS_FILE} of a different run "
                    f"({', '.join(found)}); {ANOTHER_RUN}"
                )
            return
    files.check_same_run(workdir, identity, ANOTHER_RUN)


def read_ended(points: list[GridPoint]) -> list[Run]:
    """The runs of points that ended (hold results.json or diverged.json), in the order
    given; a diverged one has no history."""
    runs = []
    for point in points:
        history = read_history(point.workdir)
        if history is not None or os.path.exists(os.path.join(point.workdir, DIVERGED_FILE)):
            runs.append(Run(point.mode, point.learning_rate, history, point.spec.seed))
    return runs


def read_history(workdir: str) -> History | None:
    """The History in workdir's results.json; None if the run has not finished."""
    results = files.read_json(os.path.join(workdir, files.RESULTS_FILE))
    return None if results is None else History.from_json(results)


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
