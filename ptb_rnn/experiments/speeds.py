"""Training speed per window length, measured on a quiet machine, and the full-scale
runs' training time at those speeds.

A full-scale run trains for an hour or more, and its measured seconds compare with
another run's only if nothing else ran beside either of them. But the time a run spends
on a window depends only on the window's length k and on whether the state is carried
(the same compiled step on the same shapes, whatever the weights), so the speeds can be
measured once, in minutes, with nothing else running, and every run timed from its
windows:

    training seconds to a point = sum, over the windows before it, of
                                  batch_size * k / words_per_second(k, carry_state)

OUTPUT_DIR/full/speeds.json, written by `python -m ptb_rnn.experiments --full
--measure_speeds`:

    {"machine": {...},                       `history.machine_description()`
     "speeds": [{"num_steps": 20, "carry_state": true,
                 "words_per_second": [r1, r2, r3]}, ...]}   one per timing round

This module does not import TensorFlow; `measure` imports it.
"""

import dataclasses
import statistics

import numpy as np

from ptb_rnn import files
from ptb_rnn.config import ConfigError
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History, machine_description
from ptb_rnn.truncation import Truncation

SPEEDS_FILE = "speeds.json"
MEASURE_AGAIN = "python -m ptb_rnn.experiments --full --notrain --measure_speeds"
# Words trained per timing: about 20 s at k = 1 on the slower machine kind.
WORDS_PER_TIMING = 50_000


def window_kinds(spec: RunSpec) -> list[tuple[int, bool]]:
    """The (window length, state carried) pairs the run trains with, shortest first."""
    lengths = spec.truncation.schedule or (spec.config.num_steps,)
    return [(k, spec.truncation.carry_state) for k in sorted(set(lengths))]


def measure(specs: list[RunSpec], rounds: int) -> dict:
    """Times training at every window kind of specs, in alternation, on this machine.

    Each kind is timed on the first spec's model and computation settings with its
    window length and state handling (the learning rate does not change the speed).

    Args:
      specs: the runs to time, at least one.
      rounds: timings of each kind (see `time_in_alternation`).

    Returns:
      The speeds.json dict.
    """
    base = specs[0]
    kinds = sorted({kind for spec in specs for kind in window_kinds(spec)})
    timings = time_in_alternation(
        {
            (k, carry_state): dataclasses.replace(
                base,
                config=dataclasses.replace(base.config, num_steps=k),
                truncation=Truncation(carry_state=carry_state),
            )
            for k, carry_state in kinds
        },
        rounds,
    )
    return {
        "machine": machine_description(),
        "speeds": [
            {"num_steps": k, "carry_state": carry_state, "words_per_second": rates}
            for (k, carry_state), rates in timings.items()
        ],
    }


def time_in_alternation(specs: dict, rounds: int) -> dict:
    """Training words/s of each run, timed by `bench.measure.Timer` on this machine.

    Every run gets its own model and compiled step (built, and compiled, before any
    timing starts); each timing trains about WORDS_PER_TIMING words (at least one call).

    Args:
      specs: {key: the run to time}.
      rounds: timings of each run; round r times every run, in the order given, before
        round r + 1 starts, so that a drift of the machine's speed affects all alike.

    Returns:
      {key: [words/s of each round]}, in the order of specs.
    """
    from ptb_rnn.bench import measure as bench  # TensorFlow

    timers = {}
    for key, spec in specs.items():
        words_per_call = spec.windows_per_call * spec.config.batch_size * spec.config.num_steps
        calls = max(1, round(WORDS_PER_TIMING / words_per_call))
        timers[key] = bench.Timer(spec, calls, timed=("train",))
    timings = {key: [] for key in timers}
    for _ in range(rounds):
        for key, timer in timers.items():
            timings[key].append(timer.words_per_second("train"))
    return timings


def read(path: str) -> dict | None:
    """The speeds.json at path; None if there is none.

    Raises:
      ConfigError: the file is damaged or holds no speeds.
    """
    advice = f"measure them again: {MEASURE_AGAIN}."
    speeds = files.read_json(path, advice)
    if speeds is None:
        return None
    try:
        speed_table(speeds)
        dict(speeds["machine"])
    except (KeyError, TypeError, ValueError, statistics.StatisticsError):
        raise ConfigError(f"{path} holds no training speeds; {advice}") from None
    return speeds


def speed_table(speeds: dict) -> dict[tuple[int, bool], float]:
    """{(k, carry_state): the median words/s of its rounds} of a speeds.json dict."""
    return {
        (row["num_steps"], row["carry_state"]): statistics.median(row["words_per_second"])
        for row in speeds["speeds"]
    }


def retime(history: History, speeds: dict, batch_len: int) -> History:
    """The run's History with its training time taken from the speeds instead of its clock.

    The curve points' and the epochs' train_seconds, and the words/s, become those of
    the run's windows at the measured speeds; everything else is kept.

    Args:
      history: a finished run's.
      speeds: a speeds.json dict.
      batch_len: columns of the run's `[batch_size, batch_len]` training data.

    Raises:
      ConfigError: speeds has no speed for a window kind the run trained with, or the
        run's windows over batch_len columns are not the words it trained on.
    """
    config = history.config
    truncation = Truncation(
        **{**history.truncation, "schedule": tuple(history.truncation["schedule"])}
    )
    table = speed_table(speeds)
    num_epochs = config["max_max_epoch"]
    lengths = np.concatenate(
        [
            truncation.window_lengths(epoch, num_epochs, batch_len, config["num_steps"])
            for epoch in range(num_epochs)
        ]
    )
    carry_state = truncation.carry_state
    missing = {int(k) for k in lengths if (k, carry_state) not in table}
    if missing:
        raise ConfigError(
            f"{SPEEDS_FILE} has no speed for windows of {sorted(missing)} words "
            f"(state carried: {carry_state}); measure them: {MEASURE_AGAIN}."
        )
    words = config["batch_size"] * lengths  # (num_windows,) words of each window
    rates = np.array([table[k, carry_state] for k in lengths])  # (num_windows,) words/s
    cumulative_words = np.concatenate([[0], np.cumsum(words)])
    if cumulative_words[-1] != history.words_so_far:
        raise ConfigError(
            f"a run trained on {history.words_so_far} words, but its windows over "
            f"{batch_len} columns make {cumulative_words[-1]}; time it with the corpus it "
            "trained on."
        )
    cumulative_seconds = np.concatenate([[0.0], np.cumsum(words / rates)])

    def seconds_at(words_so_far):
        return float(np.interp(words_so_far, cumulative_words, cumulative_seconds))

    train_seconds = [seconds_at(w) for w in history.train_words]
    epoch_words = np.diff([0, *history.train_words])
    epoch_seconds = np.diff([0.0, *train_seconds])
    words_per_second = [float(w / s) for w, s in zip(epoch_words, epoch_seconds)]
    return dataclasses.replace(
        history,
        curve=[{**point, "train_seconds": seconds_at(point["words"])} for point in history.curve],
        train_seconds=train_seconds,
        train_words_per_second=words_per_second,
        words_per_second=float(np.mean(words_per_second)),
    )
