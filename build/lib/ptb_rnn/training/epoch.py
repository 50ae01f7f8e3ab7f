"""One pass over an epoch's windows, in order, with the LSTM state carried between calls.

The corpus is read as `batch_size` parallel streams cut into windows (see `reader.py`).
The state is zero at the start of an epoch; after that the final state of window i is
the initial state of window i+1. `run_epoch` hands the windows to a compiled step
function several at a time, and between two calls hands control back (`after_call`):
that is where the trainer checks for divergence, saves checkpoints and stops on request.
"""

import dataclasses
import sys
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from absl import logging

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


def run_epoch(
    steps_fn,
    model: PTBModel,
    batches: reader.Batches,
    window_lengths: list[int] | None = None,
    windows_per_call: int = WINDOWS_PER_CALL,
    verbose: bool = False,
    epoch_state: EpochState | None = None,
    break_every: int | None = None,
    after_call: Callable[[EpochState, np.ndarray, int], None] | None = None,
):
    """Runs steps_fn over the windows of an epoch in order, from a zero state.

    An epoch interrupted between two calls continues exactly from its EpochState: the
    carried LSTM state, the running loss and the position are all in it.

    Args:
      steps_fn: from `steps.make_train_steps` or `steps.make_eval_steps`.
      model: the model (for its zero state).
      batches: the epoch's data.
      window_lengths: the length of each window, left to right (from
        `Truncation.window_lengths`); default: `batches.num_steps` for every window.
      windows_per_call: at most this many windows (of one length) per call.
      verbose: show a progress bar and log the tutorial's periodic line.
      epoch_state: where to continue the epoch from (it is updated after every call);
        default: its start, from a zero state.
      break_every: calls also end at every multiple of this many windows, so that
        after_call sees those steps (checkpoints go there).
      after_call: called as `after_call(epoch_state, losses, num_steps)` after each
        call, with the losses of the call's windows, (num_windows,), and their length;
        it may raise to end the epoch.

    Returns:
      (perplexity, words_per_second) over the epoch.
    """
    if window_lengths is None:
        window_lengths = [batches.num_steps] * batches.epoch_size
    if epoch_state is None:
        epoch_state = EpochState(model.zero_state(batches.batch_size))
    epoch_size = len(window_lengths)
    log_every = max(epoch_size // 10, 1)
    # In a log file (not a terminal) the bar prints once, at the end of the epoch.
    progbar = keras.utils.Progbar(
        epoch_size,
        verbose=1 if sys.stdout.isatty() else 2,
        stateful_metrics=["perplexity", "wps"],
    )
    column = sum(window_lengths[: epoch_state.step])
    for first, last, num_steps in calls(
        window_lengths, windows_per_call, epoch_state.step, break_every
    ):
        start_time = time.time()
        windows = []
        for _ in range(first, last):
            windows.append(batches.window_at(column, num_steps))
            column += num_steps
        xs = np.stack([x for x, _ in windows])  # (num_windows, batch_size, num_steps)
        ys = np.stack([y for _, y in windows])
        losses, epoch_state.lstm_state = steps_fn(xs, ys, epoch_state.lstm_state)
        epoch_state.step = last
        epoch_state.costs += float(tf.reduce_sum(losses))
        epoch_state.iters += (last - first) * num_steps
        epoch_state.seconds += time.time() - start_time  # not after_call's time
        if after_call is not None:
            after_call(epoch_state, losses.numpy(), num_steps)
        if verbose:
            perplexity = epoch_state.perplexity
            wps = epoch_state.iters * batches.batch_size / epoch_state.seconds
            progbar.update(last, [("perplexity", perplexity), ("wps", wps)])
            if (first - 10) // log_every != (last - 10) // log_every:
                logging.info(
                    "%.3f perplexity: %.3f speed: %.0f wps", last / epoch_size, perplexity, wps
                )
    wps = epoch_state.iters * batches.batch_size / epoch_state.seconds
    return epoch_state.perplexity, wps


def calls(
    window_lengths: list[int], windows_per_call: int, first: int = 0, break_every: int | None = None
):
    """Splits windows first.. into calls of at most windows_per_call windows of one length.

    No call crosses a multiple of break_every. Where a call ends depends only on where
    it starts, so an epoch resumed at a call boundary is cut into the same calls (and
    compiled programs) as an uninterrupted one.

    Yields:
      (first, last, num_steps): windows first .. last - 1, all num_steps long.
    """
    while first < len(window_lengths):
        num_steps = window_lengths[first]
        end = min(first + windows_per_call, len(window_lengths))
        if break_every is not None:
            end = min(end, (first // break_every + 1) * break_every)
        last = first + 1
        while last < end and window_lengths[last] == num_steps:
            last += 1
        yield first, last, num_steps
        first = last
