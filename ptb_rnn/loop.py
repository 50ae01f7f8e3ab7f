"""Training and evaluation with truncated backpropagation through time (TBPTT).

The corpus is read as `batch_size` parallel streams cut into windows of `num_steps`
words (see `reader.py`). Each window is one SGD update. The LSTM state is zero at the
start of an epoch; after that the final state of window i is the initial state of
window i+1, so information flows forward across windows, but the gradient of a
window's loss stops at the window's first step: backpropagation is truncated to
num_steps steps.
"""

import dataclasses
import json
import os
import platform
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ptb_rnn import reader
from ptb_rnn.config import Config, ConfigError
from ptb_rnn.model import PTBModel, State
from ptb_rnn.truncation import TBPTT, Truncation

# Test-set evaluation feeds the batch_size-1 stream this many words per call. With no
# dropout and the state carried, this gives the same perplexity as the tutorial's
# one-word steps (tests/loop_test.py checks it), in far fewer calls.
TEST_WINDOW = 1000

# Training and validation hand this many windows to one compiled call.
WINDOWS_PER_CALL = 50


def sequence_loss(logits, targets):
    """Cross-entropy averaged over the batch and summed over the time steps.

    Summing over num_steps (not averaging) is the tutorial's scaling; it is what
    makes learning_rate 1.0 the right step size.

    Args:
      logits: (batch_size, num_steps, vocab_size).
      targets: int ids, (batch_size, num_steps).

    Returns:
      A scalar: sum over steps of the batch-mean cross-entropy (in nats).
    """
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_sum(tf.reduce_mean(xent, axis=0))


def window_loss(model: PTBModel, x, y, state: State, training: bool):
    """The loss of one window and the state it ends in.

    Truncated BPTT happens here: the incoming state is treated as a constant, so the
    gradient of this window's loss stops at its first step and never flows back into
    the window that produced the state.

    Args:
      x, y: int ids, (batch_size, num_steps); y is x shifted by one word.
      state: the (h, c) of each layer at the start of the window.

    Returns:
      (loss, final_state): `sequence_loss` of the window, and the state after it.
    """
    state = tf.nest.map_structure(tf.stop_gradient, state)
    logits, final_state = model(x, state, training=training)
    return sequence_loss(logits, y), final_state


def make_train_steps(
    model: PTBModel, optimizer: keras.optimizers.Optimizer, carry_state: bool = True
):
    """A compiled `train_steps(xs, ys, state) -> (losses, final_state)`.

    Runs one SGD update per window, for several consecutive windows per call (fewer
    calls, less overhead): xs and ys are (num_windows, batch_size, num_steps), losses
    is (num_windows,). With carry_state false every window starts from zeros.
    """

    @tf.function(jit_compile=True)
    def train_steps(xs, ys, state: State):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
            if not carry_state:
                state = tf.nest.map_structure(tf.zeros_like, state)
            with tf.GradientTape() as tape:
                loss, state = window_loss(model, xs[i], ys[i], state, training=True)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)  # clips to global_clipnorm
            losses = losses.write(i, loss)
        return losses.stack(), state

    return train_steps


def make_eval_steps(model: PTBModel, carry_state: bool = True):
    """A compiled `eval_steps(xs, ys, state) -> (losses, final_state)`, no dropout."""

    @tf.function(jit_compile=True)
    def eval_steps(xs, ys, state: State):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
            if not carry_state:
                state = tf.nest.map_structure(tf.zeros_like, state)
            loss, state = window_loss(model, xs[i], ys[i], state, training=False)
            losses = losses.write(i, loss)
        return losses.stack(), state

    return eval_steps


def make_optimizer(config: Config) -> keras.optimizers.Optimizer:
    """Plain SGD with the gradients clipped to a global norm of max_grad_norm."""
    return keras.optimizers.SGD(
        learning_rate=config.learning_rate, global_clipnorm=config.max_grad_norm
    )


def run_epoch(
    steps_fn,
    model: PTBModel,
    batches: reader.Batches,
    window_lengths: list[int] | None = None,
    windows_per_call: int = WINDOWS_PER_CALL,
    verbose: bool = False,
):
    """Runs steps_fn over the windows of an epoch in order, from a zero state.

    Args:
      steps_fn: from `make_train_steps` or `make_eval_steps`.
      model: the model (for its zero state).
      batches: the epoch's data.
      window_lengths: the length of each window, left to right (from
        `Truncation.window_lengths`); default: `batches.num_steps` for every window.
      windows_per_call: at most this many windows (of one length) per call.
      verbose: show a progress bar and log the tutorial's periodic line.

    Returns:
      (perplexity, words_per_second) over the epoch.
    """
    if window_lengths is None:
        window_lengths = [batches.num_steps] * batches.epoch_size
    state = model.zero_state(batches.batch_size)
    costs, iters = 0.0, 0
    epoch_size = len(window_lengths)
    log_every = max(epoch_size // 10, 1)
    # In a log file (not a terminal) the bar prints once, at the end of the epoch.
    progbar = keras.utils.Progbar(
        epoch_size,
        verbose=1 if sys.stdout.isatty() else 2,
        stateful_metrics=["perplexity", "wps"],
    )
    start_time = time.time()
    column = 0
    for first, last, num_steps in _calls(window_lengths, windows_per_call):
        windows = []
        for _ in range(first, last):
            windows.append(batches.window_at(column, num_steps))
            column += num_steps
        xs = np.stack([x for x, _ in windows])  # (num_windows, batch_size, num_steps)
        ys = np.stack([y for _, y in windows])
        losses, state = steps_fn(xs, ys, state)
        costs += float(tf.reduce_sum(losses))
        iters += (last - first) * num_steps
        if verbose:
            perplexity = np.exp(costs / iters)
            wps = iters * batches.batch_size / (time.time() - start_time)
            progbar.update(last, [("perplexity", perplexity), ("wps", wps)])
            if (first - 10) // log_every != (last - 10) // log_every:
                logging.info(
                    "%.3f perplexity: %.3f speed: %.0f wps", last / epoch_size, perplexity, wps
                )
    wps = iters * batches.batch_size / (time.time() - start_time)
    return float(np.exp(costs / iters)), wps


def _calls(window_lengths: list[int], windows_per_call: int):
    """Splits windows into calls of at most windows_per_call windows of one length.

    Yields:
      (first, last, num_steps): windows first .. last - 1, all num_steps long.
    """
    first = 0
    while first < len(window_lengths):
        num_steps = window_lengths[first]
        last = first + 1
        while (
            last < len(window_lengths)
            and last - first < windows_per_call
            and window_lengths[last] == num_steps
        ):
            last += 1
        yield first, last, num_steps
        first = last


def evaluate_stream(
    eval_steps, model: PTBModel, ids, window: int = TEST_WINDOW, reset_every: int | None = None
) -> float:
    """Perplexity of one stream at batch_size 1, every word but the first predicted once.

    With reset_every None this is the tutorial's test protocol: the state is carried
    over the whole stream, so each word is predicted from all the words before it, as
    with the tutorial's one-word steps; the stream is fed `window` words per call.
    With reset_every k the state restarts from zeros every k words (how a model trained
    without carried state is used).

    Args:
      eval_steps: from `make_eval_steps` with carry_state true.
      model: the model (for its zero state).
      ids: 1-D int ids.
      window: words per call when the state is carried.
      reset_every: restart the state from zeros every this many words.

    Returns:
      Perplexity over the len(ids) - 1 predictions.
    """
    ids = np.asarray(ids, dtype=np.int32)
    inputs, targets = ids[:-1], ids[1:]
    num_predictions = len(inputs)
    costs = 0.0
    if reset_every is None:
        state = model.zero_state(1)
        for start in range(0, num_predictions, window):
            stop = min(start + window, num_predictions)
            xs = inputs[np.newaxis, np.newaxis, start:stop]  # (1, 1, words in this call)
            ys = targets[np.newaxis, np.newaxis, start:stop]
            losses, state = eval_steps(xs, ys, state)
            costs += float(losses[0])
        return float(np.exp(costs / num_predictions))
    # Windows that each start from zeros are independent: evaluate them as the rows of
    # a batch, up to TEST_WINDOW words per call, and the short tail as a batch of one.
    k = reset_every
    num_full = num_predictions // k
    x_rows = inputs[: num_full * k].reshape(num_full, k)
    y_rows = targets[: num_full * k].reshape(num_full, k)
    tail = slice(num_full * k, num_predictions)
    rows_per_call = max(TEST_WINDOW // k, 1)
    chunks = [
        (x_rows[i : i + rows_per_call], y_rows[i : i + rows_per_call])
        for i in range(0, num_full, rows_per_call)
    ]
    if tail.start < tail.stop:
        chunks.append((inputs[np.newaxis, tail], targets[np.newaxis, tail]))
    for x, y in chunks:
        losses, _ = eval_steps(x[np.newaxis], y[np.newaxis], model.zero_state(len(x)))
        costs += float(losses[0]) * len(x)  # the loss is a mean over the rows
    return float(np.exp(costs / num_predictions))


def check_vocabulary(config: Config, corpus: reader.Corpus) -> None:
    """Refuses a corpus whose vocabulary does not fit the model's softmax."""
    if corpus.vocabulary_size > config.vocab_size:
        raise ConfigError(
            f"the training split has {corpus.vocabulary_size} distinct words but "
            f"vocab_size is {config.vocab_size}; pass --vocab_size="
            f"{corpus.vocabulary_size}."
        )


def write_json_atomic(path: str, obj) -> None:
    """Writes JSON to a temporary file beside path, then renames it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(f.name, path)


def machine_description() -> dict:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def train_and_evaluate(
    config: Config,
    corpus: reader.Corpus,
    workdir: str,
    seed: int = 0,
    truncation: Truncation = TBPTT,
) -> dict:
    """Trains with the tutorial's recipe, evaluates, and writes workdir/results.json.

    Each epoch: train perplexity, then validation perplexity in the training layout
    (batch_size rows, windows of the final truncation length) with the state handled as
    in training. At the end, valid and test perplexity at batch_size 1 under two
    protocols: "carried" (the tutorial's: the state carried through the whole split)
    and "trained_state" (the state handled as in training: carried, or reset every
    num_steps words).

    Args:
      config: hyperparameters.
      corpus: the three splits.
      workdir: where results.json and TensorBoard summaries go.
      seed: for the initial weights and dropout.
      truncation: window lengths and state carry; the default is the tutorial's.

    Returns:
      The results dict written to results.json.
    """
    check_vocabulary(config, corpus)
    eval_num_steps = truncation.final_num_steps(config.num_steps)
    train_batches = reader.ptb_producer(corpus.train, config.batch_size, config.num_steps)
    valid_batches = reader.ptb_producer(corpus.valid, config.batch_size, eval_num_steps)
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(seed)

    model = PTBModel(config).build_for(config.batch_size)
    optimizer = make_optimizer(config)
    train_steps = make_train_steps(model, optimizer, truncation.carry_state)
    # Validation in the training layout handles the state as training does; the
    # batch_size-1 stream protocols carry it (or reset it explicitly).
    valid_steps = make_eval_steps(model, truncation.carry_state)
    stream_steps = make_eval_steps(model)
    summaries = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))

    results = {
        "config": dataclasses.asdict(config),
        "truncation": dataclasses.asdict(truncation),
        "learning_rate": [],
        "train_perplexity": [],
        "valid_perplexity": [],
        "train_words_per_second": [],
        "train_words": [],  # words trained on so far, at the end of each epoch
        "elapsed_seconds": [],  # wall time so far, at the end of each epoch
        "machine": machine_description(),
    }
    start_time = time.time()
    words = 0
    for epoch in range(config.max_max_epoch):
        learning_rate = config.learning_rate_at(epoch)
        optimizer.learning_rate.assign(learning_rate)
        window_lengths = truncation.window_lengths(
            epoch, config.max_max_epoch, train_batches.batch_len, config.num_steps
        )
        logging.info(
            "Epoch: %d Learning rate: %.3f num_steps: %s",
            epoch + 1,
            learning_rate,
            ",".join(str(k) for k in sorted(set(window_lengths))),
        )
        train_perplexity, wps = run_epoch(
            train_steps, model, train_batches, window_lengths, verbose=True
        )
        valid_perplexity, _ = run_epoch(valid_steps, model, valid_batches)
        words += sum(window_lengths) * config.batch_size
        logging.info(
            "Epoch: %d Train Perplexity: %.3f Valid Perplexity: %.3f (%.0f wps)",
            epoch + 1,
            train_perplexity,
            valid_perplexity,
            wps,
        )
        results["learning_rate"].append(learning_rate)
        results["train_perplexity"].append(train_perplexity)
        results["valid_perplexity"].append(valid_perplexity)
        results["train_words_per_second"].append(wps)
        results["train_words"].append(words)
        results["elapsed_seconds"].append(time.time() - start_time)
        with summaries.as_default(step=words):
            tf.summary.scalar("learning_rate", learning_rate)
            tf.summary.scalar("train_perplexity", train_perplexity)
            tf.summary.scalar("valid_perplexity", valid_perplexity)
            tf.summary.scalar("train_words_per_second", wps)

    reset_every = None if truncation.carry_state else eval_num_steps
    results["eval"] = {"carried": {}, "trained_state": {}}
    for split in ("valid", "test"):
        ids = getattr(corpus, split)
        carried = evaluate_stream(stream_steps, model, ids)
        results["eval"]["carried"][split] = carried
        results["eval"]["trained_state"][split] = (
            carried
            if reset_every is None
            else evaluate_stream(stream_steps, model, ids, reset_every=reset_every)
        )
    results["test_perplexity"] = results["eval"]["carried"]["test"]
    logging.info("Test Perplexity: %.3f", results["test_perplexity"])
    results["words_per_second"] = float(np.mean(results["train_words_per_second"]))
    results["wall_seconds"] = time.time() - start_time
    write_json_atomic(os.path.join(workdir, "results.json"), results)
    return results
