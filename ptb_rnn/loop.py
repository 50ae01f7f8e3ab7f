"""Training and evaluation with truncated backpropagation through time (TBPTT).

The corpus is read as `batch_size` parallel streams cut into windows of `num_steps`
words (see `reader.py`). Each window is one SGD update. The LSTM state is zero at the
start of an epoch; after that the final state of window i is the initial state of
window i+1, so information flows forward across windows, but the gradient of a
window's loss stops at the window's first step: backpropagation is truncated to
num_steps steps.

With checkpoints on (`train_and_evaluate(..., checkpoint_every_steps=n)`), a run can be
killed at any moment and continued: every n windows and at each epoch end the work
directory receives everything the rest of the run depends on (weights, learning rate,
where in which epoch, the carried LSTM state, the dropout random state, the epoch's
running loss and the results so far), and the same call on the same work directory
continues from the latest checkpoint. Checkpoints go between compiled calls, so a call
never runs past a checkpoint step.

    workdir/
      results.json      written once, at the end
      model.weights.h5  the final weights
      tensorboard/      summaries per epoch
      checkpoints/      run.json (what run this is) and tf.train.CheckpointManager files
"""

import dataclasses
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

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

# What train_and_evaluate writes in the work directory.
RESULTS_FILE = "results.json"
WEIGHTS_FILE = "model.weights.h5"  # the final weights, for `model.load_weights`
SUMMARY_DIR = "tensorboard"
CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"  # in CHECKPOINT_DIR: the config, truncation, seed and corpus
CHECKPOINTS_KEPT = 2

# A window whose perplexity, exp(loss / num_steps), would not fit in a float64 has
# diverged: about 709.8 nats per word (a uniform guess over 10000 words costs 9.2).
MAX_LOSS_PER_STEP = float(np.log(np.finfo(np.float64).max))


class Diverged(RuntimeError):
    """The loss or the weights became NaN or infinite; nothing from then on was saved.

    A loss too large for its perplexity to be a float counts as infinite.
    """


class Interrupted(RuntimeError):
    """Training stopped on request (`should_stop`), after saving a checkpoint."""


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
    model: PTBModel,
    optimizer: keras.optimizers.Optimizer,
    carry_state: bool = True,
    jit_compile: bool = True,
):
    """A compiled `train_steps(xs, ys, state) -> (losses, final_state)`.

    Runs one SGD update per window, for several consecutive windows per call (fewer
    calls, less overhead): xs and ys are (num_windows, batch_size, num_steps), losses
    is (num_windows,). With carry_state false every window starts from zeros.
    jit_compile=True compiles the step with XLA (see docs/performance.md).
    """

    @tf.function(jit_compile=jit_compile)
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


def make_eval_steps(model: PTBModel, carry_state: bool = True, jit_compile: bool = True):
    """A compiled `eval_steps(xs, ys, state) -> (losses, final_state)`, no dropout."""

    @tf.function(jit_compile=jit_compile)
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


@dataclasses.dataclass
class EpochState:
    """How far an epoch has got: enough to continue it exactly, e.g. after a restart.

    Attributes:
      lstm_state: the state the next window starts from: (h, c) per layer, each
        (batch_size, hidden_size).
      step: windows done.
      costs: their summed loss (nats).
      iters: their time steps.
      seconds: time spent on them.
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
    after_call: Callable[[EpochState, np.ndarray], None] | None = None,
):
    """Runs steps_fn over the windows of an epoch in order, from a zero state.

    An epoch interrupted between two calls continues exactly from its EpochState: the
    carried LSTM state, the running loss and the position are all in it.

    Args:
      steps_fn: from `make_train_steps` or `make_eval_steps`.
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
      after_call: called as `after_call(epoch_state, losses)` after each call, with the
        losses of the call's windows, (num_windows,); it may raise to end the epoch.

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
    start_time = time.time() - epoch_state.seconds
    column = sum(window_lengths[: epoch_state.step])
    for first, last, num_steps in _calls(
        window_lengths, windows_per_call, epoch_state.step, break_every
    ):
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
        epoch_state.seconds = time.time() - start_time
        if after_call is not None:
            after_call(epoch_state, losses.numpy())
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


def _calls(
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


def check_diverged(losses: np.ndarray, num_steps: int, model: PTBModel) -> tuple[int, str] | None:
    """Whether training has diverged in a call, and where.

    With gradients clipped, the loss rarely becomes NaN: a far too large learning rate
    makes it grow without bound instead (--learning_rate=1e6 gives about 1e6 nats per
    window), so a window whose perplexity overflows counts as diverged too. The weights
    are checked as well, since the losses do not show the call's last update.

    Args:
      losses: the call's window losses, (num_windows,).
      num_steps: the windows' length.
      model: the model after the call's updates.

    Returns:
      None if all is finite, else (i, what): the index in the call of the first bad
      window, and what went wrong, e.g. "the loss is nan nats over 20 steps".
    """
    per_step = np.asarray(losses, np.float64) / num_steps
    bad = ~(per_step < MAX_LOSS_PER_STEP)  # NaN compares false
    if bad.any():
        i = int(np.argmax(bad))
        return i, f"the loss is {losses[i]:.4g} nats over {num_steps} steps"
    for variable in model.trainable_variables:
        if not np.all(np.isfinite(variable.numpy())):
            return len(losses) - 1, f"{variable.path} became NaN or infinite"
    return None


class _JsonState(tf.train.experimental.PythonState):
    """A JSON value saved in a checkpoint beside the tensors."""

    def __init__(self):
        self.value = None

    def serialize(self):
        return json.dumps(self.value)

    def deserialize(self, string_value):
        self.value = json.loads(string_value)


class RunCheckpoints:
    """Saves and restores everything the rest of a run depends on.

    A checkpoint holds the model's variables (the weights, and each dropout layer's
    seed-generator state, so that dropout draws the same masks as it would have), the
    optimizer's (update count, learning rate), the LSTM state carried into the next
    window, and as JSON the epoch, the step in it, the epoch's running loss, and the
    results so far. `tf.train.CheckpointManager` writes a checkpoint under a temporary
    name before pointing its `checkpoint` file at it, so a crash in the middle of a
    save leaves the previous checkpoint the latest.
    """

    def __init__(
        self,
        directory: str,
        model: PTBModel,
        optimizer: keras.optimizers.Optimizer,
        batch_size: int,
    ):
        self._zero_state = model.zero_state(batch_size)
        self._lstm_state = [tf.Variable(t) for t in tf.nest.flatten(self._zero_state)]
        self._progress = _JsonState()
        self._checkpoint = tf.train.Checkpoint(
            model=list(model.variables),
            optimizer=list(optimizer.variables),
            lstm_state=self._lstm_state,
            progress=self._progress,
        )
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, directory, max_to_keep=CHECKPOINTS_KEPT
        )
        self.last_saved = None  # (epoch, step) of the latest checkpoint

    @property
    def latest(self) -> str | None:
        return self._manager.latest_checkpoint

    def save(self, epoch: int, epoch_state: EpochState, results: dict) -> None:
        """Saves the run at (0-based) epoch, epoch_state.step windows into it."""
        if self.last_saved == (epoch, epoch_state.step):
            return
        for variable, value in zip(self._lstm_state, tf.nest.flatten(epoch_state.lstm_state)):
            variable.assign(value)
        self._progress.value = {
            "epoch": epoch,
            "step": epoch_state.step,
            "costs": epoch_state.costs,
            "iters": epoch_state.iters,
            "seconds": epoch_state.seconds,
            "results": results,
        }
        self._manager.save()
        self.last_saved = (epoch, epoch_state.step)

    def restore(self) -> tuple[int, EpochState, dict]:
        """Loads the latest checkpoint into the model and optimizer.

        Returns:
          (epoch, epoch_state, results) as they were saved.
        """
        self._checkpoint.restore(self.latest).assert_consumed()
        progress = self._progress.value
        lstm_state = tf.nest.pack_sequence_as(
            self._zero_state, [tf.identity(v) for v in self._lstm_state]
        )
        self.last_saved = (progress["epoch"], progress["step"])
        epoch_state = EpochState(
            lstm_state, progress["step"], progress["costs"], progress["iters"], progress["seconds"]
        )
        return progress["epoch"], epoch_state, progress["results"]


def run_description(
    config: Config, truncation: Truncation, seed: int, corpus: reader.Corpus
) -> dict:
    """What makes two runs the same run, as JSON values: only the same run may resume."""
    digest = hashlib.sha256()
    for split in reader.SPLITS:
        ids = np.ascontiguousarray(getattr(corpus, split), dtype=np.int32)
        digest.update(f"{split} {len(ids)}\n".encode())
        digest.update(ids.tobytes())
    run = {
        "config": dataclasses.asdict(config),
        "truncation": dataclasses.asdict(truncation),
        "seed": seed,
        "corpus_sha256": digest.hexdigest(),
    }
    return json.loads(json.dumps(run))  # tuples become lists, as when read back


def check_same_run(workdir: str, run: dict) -> None:
    """Refuses to resume checkpoints in workdir that another run (config, data...) saved."""
    path = os.path.join(workdir, CHECKPOINT_DIR, RUN_FILE)
    saved = None
    if os.path.isfile(path):
        with open(path) as f:
            saved = json.load(f)
    if saved == run:
        return
    if saved is None:
        what = f"no {RUN_FILE} to say which run they belong to"
    else:
        differences = []
        for part in ("config", "truncation"):
            for name, value in run[part].items():
                if saved.get(part, {}).get(name) != value:
                    differences.append(
                        f"{name} {saved.get(part, {}).get(name)} there, {value} here"
                    )
        if saved.get("seed") != run["seed"]:
            differences.append(f"seed {saved.get('seed')} there, {run['seed']} here")
        if saved.get("corpus_sha256") != run["corpus_sha256"]:
            differences.append("another corpus")
        what = ", ".join(differences)
    raise ConfigError(
        f"{workdir} holds checkpoints of a different run ({what}); pass --restart to "
        "start over there, or choose another --workdir."
    )


def start_over(workdir: str) -> None:
    """Deletes what an earlier run wrote in workdir: checkpoints, summaries, results."""
    for name in (CHECKPOINT_DIR, SUMMARY_DIR):
        if os.path.isdir(os.path.join(workdir, name)):
            shutil.rmtree(os.path.join(workdir, name))
    for name in (RESULTS_FILE, WEIGHTS_FILE):
        if os.path.isfile(os.path.join(workdir, name)):
            os.remove(os.path.join(workdir, name))


def write_json_atomic(path: str, obj) -> None:
    """Writes JSON to a temporary file beside path, then renames it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(f.name, path)


def save_weights_atomic(model: PTBModel, path: str) -> None:
    """`model.save_weights` to a temporary file beside path, then renamed into place."""
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".tmp{os.getpid()}-{name}")  # keeps .weights.h5
    model.save_weights(temporary)
    os.replace(temporary, path)


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
    *,
    checkpoint_every_steps: int | None = None,
    restart: bool = False,
    deterministic: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Trains with the tutorial's recipe, evaluates, and writes workdir/results.json.

    Each epoch: train perplexity, then validation perplexity in the training layout
    (batch_size rows, windows of the final truncation length) with the state handled as
    in training. At the end, valid and test perplexity at batch_size 1 under two
    protocols: "carried" (the tutorial's: the state carried through the whole split)
    and "trained_state" (the state handled as in training: carried, or reset every
    num_steps words). The final weights go to workdir/model.weights.h5.

    Args:
      config: hyperparameters.
      corpus: the three splits.
      workdir: where results.json, the weights, summaries and checkpoints go.
      seed: for the initial weights and dropout.
      truncation: window lengths and state carry; the default is the tutorial's.
      checkpoint_every_steps: None (the default) trains from scratch with no
        checkpoints. A number n turns on the reliability features: a checkpoint every n
        windows (updates) of an epoch and at each epoch end in workdir/checkpoints,
        resuming from the latest one found there, and `Diverged` on a NaN or infinite
        loss, so that a bad state is never saved.
      restart: with checkpoints on, delete what an earlier run wrote in workdir and
        start over instead of resuming.
      deterministic: make TensorFlow's ops deterministic (for the whole process).
      should_stop: asked after every training call, at each epoch end and before each
        final evaluation; when it returns true, a checkpoint is saved and `Interrupted`
        raised.

    Returns:
      The results dict written to results.json.

    Raises:
      reader.DataError: the corpus does not fit the config (vocabulary, layout).
      ConfigError: workdir holds checkpoints of a different run.
      Diverged: with checkpoints on, the loss became NaN or infinite; the latest
        checkpoint is the last one before.
      Interrupted: should_stop returned true.
    """
    truncation.check_corpus(config, corpus)
    eval_num_steps = truncation.final_num_steps(config.num_steps)
    train_batches = reader.ptb_producer(corpus.train, config.batch_size, config.num_steps)
    valid_batches = reader.ptb_producer(corpus.valid, config.batch_size, eval_num_steps)
    checkpoint_dir = os.path.join(workdir, CHECKPOINT_DIR)
    if checkpoint_every_steps is not None:
        run = run_description(config, truncation, seed, corpus)
        if restart:
            start_over(workdir)
        elif tf.train.latest_checkpoint(checkpoint_dir):
            check_same_run(workdir, run)
    should_stop = should_stop or (lambda: False)
    os.makedirs(workdir, exist_ok=True)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)

    model = PTBModel(config).build_for(config.batch_size)
    optimizer = make_optimizer(config)
    optimizer.build(model.trainable_variables)
    train_steps = make_train_steps(model, optimizer, truncation.carry_state)
    # Validation in the training layout handles the state as training does; the
    # batch_size-1 stream protocols carry it (or reset it explicitly).
    valid_steps = make_eval_steps(model, truncation.carry_state)
    stream_steps = make_eval_steps(model)

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
    first_epoch = 0
    epoch_state = EpochState(model.zero_state(config.batch_size))
    checkpoints = None
    if checkpoint_every_steps is not None:
        checkpoints = RunCheckpoints(checkpoint_dir, model, optimizer, config.batch_size)
        if checkpoints.latest:
            first_epoch, epoch_state, results = checkpoints.restore()
            if first_epoch < config.max_max_epoch:
                where = f"epoch {first_epoch + 1}, step {epoch_state.step}"
            else:
                where = "training is finished, evaluating"
            logging.info("Resuming from %s: %s", checkpoints.latest, where)
        else:
            os.makedirs(checkpoint_dir, exist_ok=True)
            write_json_atomic(os.path.join(checkpoint_dir, RUN_FILE), run)
    summaries = tf.summary.create_file_writer(os.path.join(workdir, SUMMARY_DIR))

    def stop(where: str, epoch: int, epoch_state: EpochState):
        """Saves a checkpoint (if they are on) and raises Interrupted."""
        if checkpoints is None:
            raise Interrupted(f"stopped {where}; nothing was saved (checkpoints are off).")
        checkpoints.save(epoch, epoch_state, results)
        raise Interrupted(
            f"stopped {where}, checkpoint saved in {checkpoint_dir}; run the same command "
            "again to resume."
        )

    def after_call(epoch_state, losses, *, epoch, learning_rate, window_lengths):
        """Between two training calls: stop on divergence, checkpoint, stop on request."""
        if checkpoints is not None:
            first = epoch_state.step - len(losses)
            diverged = check_diverged(losses, window_lengths[first], model)
            if diverged is not None:
                index, what = diverged
                saved = "nothing was saved"
                if checkpoints.last_saved is not None:
                    saved_epoch, saved_step = checkpoints.last_saved
                    saved = f"nothing after epoch {saved_epoch + 1}, step {saved_step} was saved"
                raise Diverged(
                    f"training diverged at epoch {epoch + 1}, step {first + index + 1} "
                    f"(learning rate {learning_rate:g}): {what}; {saved}. Lower "
                    "--learning_rate or --max_grad_norm and start over with --restart."
                )
            step = epoch_state.step
            if step % checkpoint_every_steps == 0 and step < len(window_lengths):
                checkpoints.save(epoch, epoch_state, results)
        if should_stop():
            where = f"at epoch {epoch + 1}, step {epoch_state.step} of {len(window_lengths)}"
            stop(where, epoch, epoch_state)

    words = results["train_words"][-1] if results["train_words"] else 0
    elapsed = results["elapsed_seconds"][-1] if results["elapsed_seconds"] else 0.0
    start_time = time.time() - elapsed - epoch_state.seconds
    for epoch in range(first_epoch, config.max_max_epoch):
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
            train_steps,
            model,
            train_batches,
            window_lengths,
            verbose=True,
            epoch_state=epoch_state,
            break_every=checkpoint_every_steps,
            after_call=functools.partial(
                after_call, epoch=epoch, learning_rate=learning_rate, window_lengths=window_lengths
            ),
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
        summaries.flush()
        epoch_state = EpochState(model.zero_state(config.batch_size))
        if checkpoints is not None:
            checkpoints.save(epoch + 1, epoch_state, results)
        if should_stop():
            stop(f"after epoch {epoch + 1} of {config.max_max_epoch}", epoch + 1, epoch_state)

    save_weights_atomic(model, os.path.join(workdir, WEIGHTS_FILE))
    reset_every = None if truncation.carry_state else eval_num_steps
    results["eval"] = {"carried": {}, "trained_state": {}}
    for split in ("valid", "test"):
        if should_stop():
            stop(f"before the final evaluation on {split}", config.max_max_epoch, epoch_state)
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
    write_json_atomic(os.path.join(workdir, RESULTS_FILE), results)
    return results
