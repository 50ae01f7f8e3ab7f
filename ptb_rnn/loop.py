"""Training and evaluation with truncated backpropagation through time (TBPTT).

The corpus is read as `batch_size` parallel streams cut into windows of `num_steps`
words (see `reader.py`). Each window is one SGD update. The LSTM state is zero at the
start of an epoch; after that the final state of window i is the initial state of
window i+1, so information flows forward across windows, but the gradient of a
window's loss stops at the window's first step: backpropagation is truncated to
num_steps steps.
"""

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


def make_train_steps(model: PTBModel, optimizer: keras.optimizers.Optimizer):
    """A compiled `train_steps(xs, ys, state) -> (losses, final_state)`.

    Runs one SGD update per window, for several consecutive windows per call (fewer
    calls, less overhead): xs and ys are (num_windows, batch_size, num_steps), losses
    is (num_windows,).
    """

    @tf.function(jit_compile=True)
    def train_steps(xs, ys, state: State):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
            with tf.GradientTape() as tape:
                loss, state = window_loss(model, xs[i], ys[i], state, training=True)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)  # clips to global_clipnorm
            losses = losses.write(i, loss)
        return losses.stack(), state

    return train_steps


def make_eval_steps(model: PTBModel):
    """A compiled `eval_steps(xs, ys, state) -> (losses, final_state)`, no dropout."""

    @tf.function(jit_compile=True)
    def eval_steps(xs, ys, state: State):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
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
    windows_per_call: int = WINDOWS_PER_CALL,
    verbose: bool = False,
):
    """Runs steps_fn over every window of an epoch in order, carrying the state.

    Args:
      steps_fn: from `make_train_steps` or `make_eval_steps`.
      model: the model (for its zero state).
      batches: the epoch's windows.
      windows_per_call: windows handed to steps_fn per call.
      verbose: show a progress bar and log the tutorial's periodic line.

    Returns:
      (perplexity, words_per_second) over the epoch.
    """
    state = model.zero_state(batches.batch_size)
    costs, iters = 0.0, 0
    epoch_size = batches.epoch_size
    log_every = max(epoch_size // 10, 1)
    # In a log file (not a terminal) the bar prints once, at the end of the epoch.
    progbar = keras.utils.Progbar(
        epoch_size,
        verbose=1 if sys.stdout.isatty() else 2,
        stateful_metrics=["perplexity", "wps"],
    )
    start_time = time.time()
    for start in range(0, epoch_size, windows_per_call):
        stop = min(start + windows_per_call, epoch_size)
        windows = [batches.window(i) for i in range(start, stop)]
        xs = np.stack([x for x, _ in windows])  # (num_windows, batch_size, num_steps)
        ys = np.stack([y for _, y in windows])
        losses, state = steps_fn(xs, ys, state)
        costs += float(tf.reduce_sum(losses))
        iters += (stop - start) * batches.num_steps
        if verbose:
            perplexity = np.exp(costs / iters)
            wps = iters * batches.batch_size / (time.time() - start_time)
            progbar.update(stop, [("perplexity", perplexity), ("wps", wps)])
            if (start - 10) // log_every != (stop - 10) // log_every:
                logging.info(
                    "%.3f perplexity: %.3f speed: %.0f wps", stop / epoch_size, perplexity, wps
                )
    wps = iters * batches.batch_size / (time.time() - start_time)
    return float(np.exp(costs / iters)), wps


def evaluate_stream(eval_steps, model: PTBModel, ids, window: int = TEST_WINDOW) -> float:
    """The tutorial's test protocol: batch_size 1, state carried over the whole stream.

    Every word but the first is predicted once, from all the words before it, as with
    the tutorial's one-word steps; the stream is fed `window` words per call.

    Args:
      eval_steps: from `make_eval_steps`.
      model: the model (for its zero state).
      ids: 1-D int ids.
      window: words per call; the last call takes what is left.

    Returns:
      Perplexity over the len(ids) - 1 predictions.
    """
    ids = np.asarray(ids, dtype=np.int32)[np.newaxis, :]  # (1, len)
    num_predictions = ids.shape[1] - 1
    state = model.zero_state(1)
    costs = 0.0
    for start in range(0, num_predictions, window):
        stop = min(start + window, num_predictions)
        xs = ids[np.newaxis, :, start:stop]  # (1, 1, num_steps)
        ys = ids[np.newaxis, :, start + 1 : stop + 1]
        losses, state = eval_steps(xs, ys, state)
        costs += float(losses[0])
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


def train_and_evaluate(config: Config, corpus: reader.Corpus, workdir: str, seed: int = 0) -> dict:
    """Trains with the tutorial's recipe, evaluates, and writes workdir/results.json.

    Each epoch: train perplexity, then validation perplexity in the training layout
    with the state carried. At the end: test perplexity at batch_size 1 with the state
    carried through the whole test set.

    Returns:
      The results dict written to results.json.
    """
    check_vocabulary(config, corpus)
    train_batches = reader.ptb_producer(corpus.train, config.batch_size, config.num_steps)
    valid_batches = reader.ptb_producer(corpus.valid, config.batch_size, config.num_steps)
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(seed)

    model = PTBModel(config).build_for(config.batch_size)
    optimizer = make_optimizer(config)
    train_steps = make_train_steps(model, optimizer)
    eval_steps = make_eval_steps(model)
    summaries = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))

    results = {
        "config": vars(config).copy(),
        "learning_rate": [],
        "train_perplexity": [],
        "valid_perplexity": [],
        "train_words_per_second": [],
        "machine": machine_description(),
    }
    start_time = time.time()
    for epoch in range(config.max_max_epoch):
        learning_rate = config.learning_rate_at(epoch)
        optimizer.learning_rate.assign(learning_rate)
        logging.info("Epoch: %d Learning rate: %.3f", epoch + 1, learning_rate)
        train_perplexity, wps = run_epoch(train_steps, model, train_batches, verbose=True)
        valid_perplexity, _ = run_epoch(eval_steps, model, valid_batches)
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
        with summaries.as_default(step=epoch + 1):
            tf.summary.scalar("learning_rate", learning_rate)
            tf.summary.scalar("train_perplexity", train_perplexity)
            tf.summary.scalar("valid_perplexity", valid_perplexity)
            tf.summary.scalar("train_words_per_second", wps)

    results["test_perplexity"] = evaluate_stream(eval_steps, model, corpus.test)
    logging.info("Test Perplexity: %.3f", results["test_perplexity"])
    results["words_per_second"] = float(np.mean(results["train_words_per_second"]))
    results["wall_seconds"] = time.time() - start_time
    write_json_atomic(os.path.join(workdir, "results.json"), results)
    return results
