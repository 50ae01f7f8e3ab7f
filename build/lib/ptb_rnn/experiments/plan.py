"""The runs of the experiments, each a RunSpec and a work directory, decided before training.

    OUTPUT_DIR/runs/<mode>/lr_<learning rate>/   the learning-rate grid, e.g. runs/tbptt_k5/lr_0.5/
    OUTPUT_DIR/full/<mode>/seed_<seed>/          the full-scale runs, e.g. full/tbptt/seed_0/

This module does not import TensorFlow: the command line builds every run with it and
checks each one (`RunSpec.check`) before importing the modules that train.
"""

import dataclasses
import os

from ptb_rnn import truncation
from ptb_rnn.spec import RunSpec

# The full-scale schedule: the tutorial's recipe compressed to 6 epochs, the learning
# rate constant for 2 and then halved each epoch (max_epoch=2, max_max_epoch=6).
FULL_EPOCHS = 6
FULL_CONSTANT_EPOCHS = 2
# The modes compared at full scale, and those repeated with a second seed (seed 1).
FULL_MODES = (
    "tbptt",
    "stateless_one_step",
    "one_step_carry",
    "windows_reset",
    "tbptt_k5",
    "curriculum",
    "curriculum_epoch1",
)
SECOND_SEED_MODES = ("tbptt", "curriculum", "curriculum_epoch1")
FULL_CURVE_POINTS_PER_EPOCH = 4


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """One run of the grid, before it is trained.

    Attributes:
      mode: a name in `truncation.MODES`.
      learning_rate: the run's (initial) learning rate.
      spec: the run: the mode's window length and truncation, the learning rate and
        the epochs applied to the base spec.
      workdir: where the run writes.
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


def full_points(
    base: RunSpec,
    learning_rates: dict[str, float],
    modes: list[str],
    second_seed_modes: list[str],
    full_dir: str,
) -> list[GridPoint]:
    """Each mode on the full schedule at its learning rate, mode by mode, seed 0 first.

    Args:
      base: the config and computation settings the runs share; its truncation is
        replaced by each mode's, its seed by 0 (and 1 for second_seed_modes), and its
        epochs by FULL_EPOCHS with the rate halved each epoch after FULL_CONSTANT_EPOCHS.
      learning_rates: the initial learning rate of each mode.
      modes: names in `truncation.MODES`, each a key of learning_rates.
      second_seed_modes: those of modes also run with seed 1.
      full_dir: the directory of the work directories, `full_dir/<mode>/seed_<seed>`.

    Raises:
      ConfigError: a mode is not in `truncation.MODES`.
    """
    points = []
    for name in modes:
        mode = truncation.get_mode(name)
        config = dataclasses.replace(
            base.config,
            learning_rate=learning_rates[name],
            max_epoch=FULL_CONSTANT_EPOCHS,
            max_max_epoch=FULL_EPOCHS,
            lr_decay=0.5,
        )
        for seed in (0, 1) if name in second_seed_modes else (0,):
            spec = dataclasses.replace(
                base,
                config=mode.apply(config),
                truncation=mode.truncation,
                seed=seed,
                curve_points_per_epoch=FULL_CURVE_POINTS_PER_EPOCH,
            )
            workdir = os.path.join(full_dir, name, f"seed_{seed}")
            points.append(GridPoint(name, learning_rates[name], spec, workdir))
    return points
