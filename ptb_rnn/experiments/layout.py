"""Batch size against time steps: what each buys, measured with the package's own step.

    python -m ptb_rnn.experiments --study=layout --ptb_dir=DIR              # the learning runs
    python -m ptb_rnn.experiments --study=layout --ptb_dir=DIR --notrain --measure_speeds

The `batch_size` rows are independent streams trained side by side, and `num_steps` is
how far back the gradient reaches (docs/shapes.md). Two measurements say what each buys:

1. Speed: training words/s at each batch size (at the config's num_steps) and at each
   num_steps (at the config's batch_size), every setting timed by `bench.measure.Timer`
   in alternation (`speeds.time_in_alternation`), beside the words/s the step would reach
   if it ran at the machine's 4096^3 float32 matmul rate. OUTPUT_DIR/layout/speeds.json:

       {"machine": {...},                      `history.machine_description()`
        "matmul_gflops": 190.0,                `bench.measure.matmul_gflops()`
        "speeds": [{"batch_size": 1, "num_steps": 20,
                    "flops_per_word": 15840000,  `bench.measure.window_matmuls`, per word
                    "words_per_second": [r1, r2, r3]}, ...]}   one per timing round

2. Learning: each setting trained on the same words at a constant learning rate,
   validation perplexity measured during training at batch size 1 with the state
   carried (the tutorial's protocol). Each setting gets its own learning rate, picked
   on that perplexity from a grid that grows while the pick sits on its edge
   (`next_learning_rate`), so that every setting is compared at its best rate.

Work directories: OUTPUT_DIR/layout/batch_<B>_steps_<T>/lr_<learning rate>/, one run
each (results.json or diverged.json, as in grid.py: a run that ended is not redone).

This module does not import TensorFlow; `measure_speeds`, and `run_searches` when it
trains, import it.
"""

import dataclasses
import os
import statistics
from collections.abc import Callable

from ptb_rnn import files, reader
from ptb_rnn.config import Config, ConfigError
from ptb_rnn.experiments import speeds
from ptb_rnn.experiments.plan import GridPoint
from ptb_rnn.experiments.results import DIVERGED_FILE, Run, read_history
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History, machine_description
from ptb_rnn.truncation import TBPTT

LAYOUT_DIR = "layout"  # in OUTPUT_DIR: the work directories and speeds.json
MEASURE_AGAIN = "python -m ptb_rnn.experiments --study=layout --notrain --measure_speeds"
# The settings of the study: the batch sizes at the config's num_steps, the window
# lengths at the config's batch_size (20 and 20 for the small config).
SPEED_BATCH_SIZES = (1, 2, 4, 8, 20, 64, 128)
SPEED_NUM_STEPS = (1, 5, 10, 20, 35)
LEARNING_BATCH_SIZES = (1, 4, 20, 64)
LEARNING_NUM_STEPS = (1, 5, 20, 35)
# The learning-rate grid each setting starts from, and the factor it grows by.
START_LEARNING_RATES = (0.5, 1.0, 2.0)
GRID_FACTOR = 2.0
# At most this many learning rates added to a setting's grid: 2^4 = 16x beyond its edge.
MAX_EXTENSIONS = 4
# The default budget, sized for about an hour on a quiet 2-core machine: 279k words
# (30% of PTB's training split, once) for each of the 7 settings' 3 to 5 runs, at the
# small config's ~9,000 words/s at 20 x 20 and a third to a half of that at batch size 1
# or 1 step, plus about a minute a run for compiling and four validation points (73k
# words each at batch size 1) and the test split. The report says what it took.
TRAIN_FRACTION = 0.3
EPOCHS = 1
CURVE_POINTS_PER_EPOCH = 4
# Words per compiled call, at most: a validation point comes at the end of the first
# call past its mark, so large batches make shorter calls (the numbers do not change).
WORDS_PER_CALL = 5_000


@dataclasses.dataclass(frozen=True)
class Setting:
    """A layout of the training data: batch_size rows, windows of num_steps words."""

    batch_size: int
    num_steps: int

    @property
    def name(self) -> str:
        """Its work directories' name: "batch_20_steps_5"."""
        return f"batch_{self.batch_size}_steps_{self.num_steps}"

    @property
    def label(self) -> str:
        """For tables and legends: "20 x 5" (batch_size x num_steps)."""
        return f"{self.batch_size} x {self.num_steps}"


def sweeps(config: Config, batch_sizes: list[int], num_steps: list[int]) -> dict:
    """The two sweeps: {"batch_size": the batch sizes at config.num_steps, "num_steps":
    the window lengths at config.batch_size}, each a list of Settings in the order given."""
    return {
        "batch_size": [Setting(b, config.num_steps) for b in batch_sizes],
        "num_steps": [Setting(config.batch_size, t) for t in num_steps],
    }


def unique_settings(by_sweep: dict) -> list[Setting]:
    """The settings of both sweeps, each once (the config's own is in both), in order."""
    return list(dict.fromkeys(s for settings in by_sweep.values() for s in settings))


def setting_spec(base: RunSpec, setting: Setting) -> RunSpec:
    """base with the setting's batch_size and num_steps, the tutorial's truncation, and
    at most WORDS_PER_CALL words per compiled call (speed and training alike)."""
    windows_per_call = max(1, WORDS_PER_CALL // (setting.batch_size * setting.num_steps))
    return dataclasses.replace(
        base,
        config=dataclasses.replace(
            base.config, batch_size=setting.batch_size, num_steps=setting.num_steps
        ),
        truncation=TBPTT,
        windows_per_call=min(base.windows_per_call, windows_per_call),
    )


def learning_point(
    base: RunSpec, setting: Setting, learning_rate: float, epochs: int, layout_dir: str
) -> GridPoint:
    """One learning run: the setting at a constant learning rate for epochs epochs.

    Args:
      base: the config and computation settings the runs share (its
        curve_points_per_epoch gives the validation points).
      setting: the layout.
      learning_rate: the run's constant rate (max_epoch = max_max_epoch = epochs).
      epochs: epochs over the training words.
      layout_dir: OUTPUT_DIR/layout.

    Returns:
      The run, in layout_dir/<setting.name>/lr_<learning_rate>; its mode is setting.name.
    """
    spec = setting_spec(base, setting)
    config = dataclasses.replace(
        spec.config, learning_rate=learning_rate, max_epoch=epochs, max_max_epoch=epochs
    )
    workdir = os.path.join(layout_dir, setting.name, f"lr_{learning_rate:g}")
    return GridPoint(setting.name, learning_rate, dataclasses.replace(spec, config=config), workdir)


def carried_valid(run: Run) -> float | None:
    """The run's final validation perplexity at batch size 1, state carried; None if it
    diverged."""
    return None if run.diverged else run.history.eval["carried"]["valid"]


def pick(tried: dict[float, float | None]) -> float | None:
    """The learning rate with the lowest perplexity (the lowest rate of a tie), or None
    if every run diverged (perplexity None)."""
    finished = {lr: p for lr, p in tried.items() if p is not None}
    return min(finished, key=lambda lr: (finished[lr], lr)) if finished else None


def next_learning_rate(tried: dict[float, float | None]) -> float | None:
    """The grid's next learning rate: beyond the edge the pick sits on, else None.

    A diverged run (perplexity None) counts as the worst. The pick at the grid's
    lowest rate extends the grid downwards (the rate over GRID_FACTOR), at its highest
    upwards (times GRID_FACTOR); a grid of one rate extends downwards first. If every
    run diverged, the grid extends downwards.

    Args:
      tried: {learning rate: final validation perplexity, or None if it diverged}.

    Returns:
      The learning rate to try next, or None when the pick lies inside the grid.
    """
    best = pick(tried)
    if best is None or best == min(tried):
        return min(tried) / GRID_FACTOR
    if best == max(tried):
        return max(tried) * GRID_FACTOR
    return None


def pick_position(tried: dict[float, float | None]) -> str:
    """Where the pick lies in the grid: "inside", "lowest edge", "highest edge" or "none"
    (every run diverged)."""
    best = pick(tried)
    if best is None:
        return "none"
    if best == min(tried):
        return "lowest edge"
    if best == max(tried):
        return "highest edge"
    return "inside"


@dataclasses.dataclass(frozen=True)
class Search:
    """One setting's learning-rate search.

    Attributes:
      setting: the layout.
      runs: every run tried, by learning rate.
      finished: every run the grid rule asked for has ended (False when the report is
        written from the runs that have, with --notrain).
    """

    setting: Setting
    runs: list[Run]
    finished: bool = True

    @property
    def tried(self) -> dict[float, float | None]:
        """{learning rate: final validation perplexity (carried), None if diverged}."""
        return {run.learning_rate: carried_valid(run) for run in self.runs}

    @property
    def best(self) -> Run | None:
        """The picked run; None if every run diverged (or none ran)."""
        best = pick(self.tried) if self.runs else None
        return next((run for run in self.runs if run.learning_rate == best), None)

    @property
    def position(self) -> str:
        """Where the pick lies in the grid (`pick_position`)."""
        return pick_position(self.tried) if self.runs else "none"


def search(setting: Setting, start: list[float], run_at: Callable[[float], Run | None]) -> Search:
    """Runs start, then extends the grid while `next_learning_rate` asks, at most
    MAX_EXTENSIONS times.

    Args:
      setting: the layout.
      start: the first grid.
      run_at: the run at a learning rate, trained or read; None if it has not ended
        (the search stops there, unfinished).
    """
    runs = {}
    pending = list(start)
    extensions = 0
    while pending:
        for learning_rate in pending:
            run = run_at(learning_rate)
            if run is None:
                return Search(setting, sorted(runs.values(), key=_rate), finished=False)
            runs[learning_rate] = run
        following = next_learning_rate({lr: carried_valid(run) for lr, run in runs.items()})
        pending = [] if following is None or extensions == MAX_EXTENSIONS else [following]
        extensions += len(pending)
    return Search(setting, sorted(runs.values(), key=_rate))


def _rate(run: Run) -> float:
    return run.learning_rate


def read_run(point: GridPoint) -> Run | None:
    """The point's run if it ended (results.json or diverged.json), else None."""
    history = read_history(point.workdir)
    if history is None and not os.path.exists(os.path.join(point.workdir, DIVERGED_FILE)):
        return None
    return Run(point.mode, point.learning_rate, history, point.spec.seed)


def run_searches(
    base: RunSpec,
    settings: list[Setting],
    start: list[float],
    epochs: int,
    layout_dir: str,
    corpus: reader.Corpus | None,
) -> list[Search]:
    """Every setting's search, setting by setting.

    Args:
      base, epochs, layout_dir: as for `learning_point`.
      settings: the layouts.
      start: the first grid of every setting.
      corpus: the corpus to train on (each setting's first point checked against it);
        None: train nothing, read the runs that have ended.
    """
    if corpus is not None:
        from ptb_rnn.experiments import grid  # TensorFlow

    searches = []
    for setting in settings:

        def run_at(learning_rate, setting=setting):
            point = learning_point(base, setting, learning_rate, epochs, layout_dir)
            if corpus is None:
                return read_run(point)
            history = grid.run_once(point.spec, corpus, point.workdir)
            return Run(point.mode, learning_rate, history, point.spec.seed)

        searches.append(search(setting, start, run_at))
    return searches


def measure_speeds(base: RunSpec, settings: list[Setting], rounds: int) -> dict:
    """Times training at every setting, in alternation, on this machine.

    Args:
      base: the model and computation settings (the learning rate does not change the
        speed).
      settings: the layouts to time.
      rounds: timings of each setting (`speeds.time_in_alternation`).

    Returns:
      The speeds.json dict of the module docstring.
    """
    from ptb_rnn.bench import measure as bench  # TensorFlow

    specs = {setting: setting_spec(base, setting) for setting in settings}
    timings = speeds.time_in_alternation(specs, rounds)
    rows = []
    for setting, rates in timings.items():
        config = specs[setting].config
        matmuls = bench.window_matmuls(config)
        flops = sum(2 * m * k * n * count for (m, k, n), count in matmuls.items())
        rows.append(
            {
                "batch_size": setting.batch_size,
                "num_steps": setting.num_steps,
                "flops_per_word": flops / (setting.batch_size * setting.num_steps),
                "words_per_second": rates,
            }
        )
    return {
        "machine": machine_description(),
        "matmul_gflops": bench.matmul_gflops(),
        "speeds": rows,
    }


def read_speeds(path: str) -> dict | None:
    """The layout's speeds.json at path; None if there is none.

    Raises:
      ConfigError: the file is damaged or holds no speeds.
    """
    advice = f"measure them again: {MEASURE_AGAIN}."
    measured = files.read_json(path, advice)
    if measured is None:
        return None
    try:
        speed_table(measured)
        float(measured["matmul_gflops"])
        dict(measured["machine"])
    except (KeyError, TypeError, ValueError, statistics.StatisticsError):
        raise ConfigError(f"{path} holds no layout speeds; {advice}") from None
    return measured


def speed_table(measured: dict) -> dict[Setting, float]:
    """{setting: the median words/s of its rounds} of a speeds.json dict."""
    return {
        Setting(row["batch_size"], row["num_steps"]): statistics.median(row["words_per_second"])
        for row in measured["speeds"]
    }


def retime(history: History, measured: dict, batch_len: int) -> History:
    """The run's History with its training time at the measured speed of its setting
    (`speeds.retime`), instead of its own clock.

    Raises:
      ConfigError: measured has no speed for the run's setting.
    """
    setting = Setting(history.config["batch_size"], history.config["num_steps"])
    table = speed_table(measured)
    if setting not in table:
        raise ConfigError(
            f"the layout's speeds have none for batch_size {setting.batch_size} x num_steps "
            f"{setting.num_steps}; measure them: {MEASURE_AGAIN}."
        )
    by_window = {
        "speeds": [
            {
                "num_steps": setting.num_steps,
                "carry_state": True,
                "words_per_second": [table[setting]],
            }
        ]
    }
    return speeds.retime(history, by_window, batch_len)


def retime_searches(searches: list[Search], measured: dict, num_train_words: int) -> list[Search]:
    """The searches with every finished run's training time at the measured speed of its
    setting (`retime`); num_train_words: the words of the training split they read."""
    return [
        dataclasses.replace(
            search,
            runs=[
                run
                if run.diverged
                else dataclasses.replace(
                    run,
                    history=retime(
                        run.history, measured, num_train_words // search.setting.batch_size
                    ),
                )
                for run in search.runs
            ],
        )
        for search in searches
    ]
