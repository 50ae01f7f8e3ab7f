"""The runs of the PTB grid, each a RunSpec and a work directory, decided before training.

    OUTPUT_DIR/runs/<mode>/lr_<learning rate>/   e.g. runs/tbptt_k5/lr_0.5/

This module does not import TensorFlow: the command line builds every run with it and
checks each one (`RunSpec.check`) before importing the modules that train.
"""

import dataclasses
import os

from ptb_rnn import truncation
from ptb_rnn.spec import RunSpec


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """One run of the grid, before it is trained.

    Attributes:
      mode: a name in `truncation.MODES`.
      learning_rate: the run's learning rate, constant over its epochs.
      spec: the run: the mode's window length and truncation, the learning rate and
        the grid's epochs applied to the base spec.
      workdir: where the run writes, `runs_dir/<mode>/lr_<learning_rate>`.
    """

    mode: str
    learning_rate: float
    spec: RunSpec
    workdir: str


def grid_points(
    base: RunSpec, modes: list[str], learning_rates: list[float], epochs: int, runs_dir: str
) -> list[GridPoint]:
    """Every mode at every learning rate, mode by mode, in the order given.

    Args:
      base: the config and computation settings the runs share; its truncation is
        replaced by each mode's.
      modes: names in `truncation.MODES`.
      learning_rates: the grid, the same for every mode.
      epochs: epochs per run, all at the grid's learning rate (no decay within a budget
        this short: max_epoch = max_max_epoch = epochs).
      runs_dir: the directory of the work directories.

    Raises:
      ConfigError: a mode is not in `truncation.MODES`, or the config is invalid.
    """
    points = []
    for name in modes:
        mode = truncation.get_mode(name)
        for learning_rate in learning_rates:
            config = dataclasses.replace(
                base.config, learning_rate=learning_rate, max_epoch=epochs, max_max_epoch=epochs
            )
            spec = dataclasses.replace(base, config=mode.apply(config), truncation=mode.truncation)
            workdir = os.path.join(runs_dir, name, f"lr_{learning_rate:g}")
            points.append(GridPoint(name, learning_rate, spec, workdir))
    return points
