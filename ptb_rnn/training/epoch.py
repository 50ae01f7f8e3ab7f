"""One pass over an epoch's windows, in order, with the LSTM state carried between calls.

The corpus is read as `batch_size` parallel streams cut into windows (see `reader.py`).
The state is zero at the start of an epoch; after that the final state of window i is
the initial state of window i+1. `WindowLoop` hands the windows to a compiled step
function several at a time, and between two calls hands control back to its caller:
that is where the trainer checks for divergence, saves checkpoints and stops on request.
"""

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.model.network import PTBModel, State
from ptb_rnn.spec import WINDOWS_PER_CALL


@dataclasses.dataclass
class EpochState:
    """How far an epoch has got: enough to continue it exactly, e.g. after a restart.

    Attributes:
      lstm_state: the state the next window starts from: (h, c) per layer, each
        (batch_size, hidden_size).
      step: windows done.
      costs: their summed loss (nats).
      iters: their time steps.
      seconds: time spent on them (in the compiled calls, not in what runs between).
    """

    lstm_state: State
    step: int = 0
    costs: float = 0.0
    iters: int = 0
    seconds: float = 0.0

    @property
    def perplexity(self) -> float:
        return float(np.exp(self.costs / self.iters))

    def words_per_second(self, batch_size: int) -> float:
        """Training speed so far: words (time steps x rows) per second of compiled calls."""
        return self.iters * batch_size / self.seconds


class WindowLoop:
    """Runs an epoch's windows in order, in compiled calls, the LSTM state carried.

    The trainer half of the trainer/controller split: `run_calls` runs the windows it is
    asked for and hands control back after every compiled call; when to check for
    divergence, save a checkpoint, measure, log or stop is the caller's to decide
    between calls (trainer.py).

    Args:
      steps_fn: from `steps.make_train_steps` or `steps.make_eval_steps`.
      batches: the epoch's data.
      window_lengths: the length of each window, left to right (from
        `Truncation.window_lengths`); default: `batches.num_steps` for every window.
      windows_per_call: at most this many windows (of one length) per call.
    """

    def __init__(
        self,
        steps_fn,
        batches: reader.Batches,
        window_lengths: list[int] | None = None,
        windows_per_call: int = WINDOWS_PER_CALL,
    ):
        self.steps_fn = steps_fn
        self.batches = batches
        self.window_lengths = window_lengths or [batches.num_steps] * batches.epoch_size
        self.windows_per_call = windows_per_call

    @property
    def epoch_size(self) -> int:
        """Windows in the epoch."""
        return len(self.window_lengths)

    def run_calls(self, epoch_state: EpochState, until: int | None = None):
        """Runs windows epoch_state.step .. until - 1 (default: to the epoch's end).

        An epoch interrupted between two calls continues exactly from its EpochState: the
        carried LSTM state, the running loss and the position are all in it, and it is
        updated after every call.

        Yields:
          (losses, num_steps) after each call: the losses of its windows,
          (num_windows,), and their length.
        """
        column = sum(self.window_lengths[: epoch_state.step])
        until = self.epoch_size if until is None else until
        for first, last, num_steps in calls(
            self.window_lengths[:until], self.windows_per_call, epoch_state.step
        ):
            start_time = time.time()
            windows = []
            for _ in range(first, last):
                windows.append(self.batches.window_at(column, num_steps))
                column += num_steps
            xs = np.stack([x for x, _ in windows])  # (num_windows, batch_size, num_steps)
            ys = np.stack([y for _, y in windows])
            losses, epoch_state.lstm_state = self.steps_fn(xs, ys, epoch_state.lstm_state)
            epoch_state.step = last
            epoch_state.costs += float(tf.reduce_sum(losses))
            epoch_state.iters += (last - first) * num_steps
            epoch_state.seconds += time.time() - start_time  # not the caller's time
            yield losses.numpy(), num_steps


def run_epoch(
    steps_fn,
    model: PTBModel,
    batches: reader.Batches,
    report: Callable[[int, int], None] | None = None,
) -> tuple[float, float]:
    """Runs steps_fn over every window of batches from a zero state (validation in the
    training layout).

    Args:
      report: called after each call with (windows done, windows in the epoch).

    Returns:
      (perplexity, words_per_second) over the epoch.
    """
    epoch_state = EpochState(model.zero_state(batches.batch_size))
    for _ in WindowLoop(steps_fn, batches).run_calls(epoch_state):
        if report is not None:
            report(epoch_state.step, batches.epoch_size)
    return epoch_state.perplexity, epoch_state.words_per_second(batches.batch_size)


def calls(window_lengths: list[int], windows_per_call: int, first: int = 0):
    """Splits windows first.. into calls of at most windows_per_call windows of one length.

    Where a call ends depends only on where it starts and on the windows given, so an
    epoch resumed at a call boundary is cut into the same calls (and compiled programs)
    as an uninterrupted one.

    Yields:
      (first, last, num_steps): windows first .. last - 1, all num_steps long.
    """
    while first < len(window_lengths):
        num_steps = window_lengths[first]
        end = min(first + windows_per_call, len(window_lengths))
        last = first + 1
        while last < end and window_lengths[last] == num_steps:
            last += 1
        yield first, last, num_steps
        first = last
