"""Scoring one long stream at batch size 1: the tutorial's test protocol, and its reset twin.

With the state carried, each word is predicted from all the words before it, as with
the tutorial's one-word steps (`num_steps=1`, `batch_size=1`), but the stream is fed
TEST_WINDOW words per call: with no dropout this gives the same perplexity
(tests/evaluate_test.py checks it) in far fewer calls. With the state reset every k
words, the stream is cut into windows of k words that each start from zeros (how a
model trained without carried state is used); those are independent, so they are
evaluated as the rows of a batch.

The package:

    __init__.py  these two protocols: `evaluate_stream` (perplexity),
                 `evaluate_protocols` (both, as a run reports them) and
                 `target_log_probs` (the log-probability of every word)
    text.py      any text scored by a saved model (language_model.py) under the first
    __main__.py  the command line: python -m ptb_rnn.evaluate --help

This file imports neither Keras nor TensorFlow (the model and the compiled steps are
arguments), so that the command line checks its input before TensorFlow starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ptb_rnn.model.network import PTBModel

# Words per call when the state is carried (and at most that many per call otherwise).
TEST_WINDOW = 1000


def _pieces(ids, window: int, reset_every: int | None) -> Iterator[tuple]:
    """Cuts a stream's predictions into the calls that score them, in stream order.

    Yields:
      (x, y, carried): inputs and targets, each (rows, words); carried says that the
      piece continues from the previous piece's final state (else from zeros).
    """
    ids = np.asarray(ids, dtype=np.int32)
    inputs, targets = ids[:-1], ids[1:]
    num_predictions = len(inputs)
    if reset_every is None:
        for start in range(0, num_predictions, window):
            stop = min(start + window, num_predictions)
            yield inputs[np.newaxis, start:stop], targets[np.newaxis, start:stop], True
        return
    k = reset_every
    num_full = num_predictions // k
    x_rows = inputs[: num_full * k].reshape(num_full, k)
    y_rows = targets[: num_full * k].reshape(num_full, k)
    rows_per_call = max(window // k, 1)
    for i in range(0, num_full, rows_per_call):
        yield x_rows[i : i + rows_per_call], y_rows[i : i + rows_per_call], False
    if num_full * k < num_predictions:  # the short tail, as a batch of one
        tail = slice(num_full * k, num_predictions)
        yield inputs[np.newaxis, tail], targets[np.newaxis, tail], False


def evaluate_stream(
    eval_steps,
    model: PTBModel,
    ids,
    window: int = TEST_WINDOW,
    reset_every: int | None = None,
    report: Callable[[int, int], None] | None = None,
) -> float:
    """Perplexity of one stream at batch_size 1, every word but the first predicted once.

    Args:
      eval_steps: from `steps.make_eval_steps` with carry_state true.
      model: the model (for its zero state).
      ids: 1-D int ids.
      window: words per call when the state is carried.
      reset_every: restart the state from zeros every this many words; None (the
        tutorial's protocol) carries it over the whole stream.
      report: called after each call with (predictions done, all predictions).

    Returns:
      Perplexity over the len(ids) - 1 predictions.
    """
    costs, done = 0.0, 0
    state = model.zero_state(1)
    for x, y, carried in _pieces(ids, window, reset_every):
        if not carried:
            state = model.zero_state(len(x))
        losses, state = eval_steps(x[np.newaxis], y[np.newaxis], state)
        costs += float(losses[0]) * len(x)  # the loss is a mean over the rows
        done += x.size
        if report is not None:
            report(done, len(ids) - 1)
    return float(np.exp(costs / (len(ids) - 1)))


def evaluate_protocols(
    eval_steps,
    model: PTBModel,
    ids,
    reset_every: int | None,
    report: Callable[[int, int], None] | None = None,
) -> dict:
    """A stream's perplexity under both protocols of a run's evaluation.

    Args:
      eval_steps, model, ids, report: as in `evaluate_stream` (report sees each
        protocol's pass in turn).
      reset_every: None for a model trained with its state carried, else its window
        length (`RunSpec.reset_every`).

    Returns:
      {"carried": the tutorial's protocol, "trained_state": the state handled as in
      training (reset every reset_every words; the carried number when None)}.
    """
    carried = evaluate_stream(eval_steps, model, ids, report=report)
    if reset_every is None:
        return {"carried": carried, "trained_state": carried}
    return {
        "carried": carried,
        "trained_state": evaluate_stream(
            eval_steps, model, ids, reset_every=reset_every, report=report
        ),
    }


def target_log_probs(
    log_prob_steps, model: PTBModel, ids, window: int = TEST_WINDOW, reset_every=None
) -> np.ndarray:
    """The log-probability of every word but the first, under the same protocols.

    Args:
      log_prob_steps: from `steps.make_log_prob_steps`.
      model, ids, window, reset_every: as in `evaluate_stream`.

    Returns:
      (len(ids) - 1,) float32: entry t is log p(ids[t + 1] | the words before it).
    """
    pieces = []
    state = model.zero_state(1)
    for x, y, carried in _pieces(ids, window, reset_every):
        if not carried:
            state = model.zero_state(len(x))
        log_probs, state = log_prob_steps(x, y, state)  # (rows, words)
        pieces.append(log_probs.numpy().reshape(-1))
    return np.concatenate(pieces)
