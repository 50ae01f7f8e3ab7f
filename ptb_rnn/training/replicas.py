"""Data-parallel truncated BPTT with tf.distribute: each replica owns a block of rows.

The batch_size rows of the data are independent streams (reader.py), so training can
be spread over replicas (devices, on one machine or several) without changing what is
computed. With R replicas, replica r always gets the same contiguous rows of every
window and carries exactly those rows' LSTM state from window to window:

    window [batch_size, num_steps]     replica 0: rows 0 .. B/R - 1
                                       replica 1: rows B/R .. 2B/R - 1   ...

Each window is one update, as on one device:

    each replica (XLA)   forward and backward on its rows; its loss is its rows' share
                         of the batch mean (the mean over its rows / R)
    all replicas         the gradients summed (all-reduce, outside XLA)
    each worker          optimizer.apply(summed gradients): clipped to one global norm
                         over the sum, then SGD, on every copy of the weights

so the summed gradient, its clipping and the update are the one-device ones, to float32
rounding (tests/replicas_test.py). Three ways tf.distribute gets this wrong by default,
and what is done instead:

* An XLA-compiled step holding the all-reduce fails on CPU ("Trying to access resource
  ... located in device CPU:1 from device CPU:0"): only each replica's forward and
  backward pass is compiled, in a function of its own (a function traced for one
  replica is pinned to that replica's device).
* Keras's optimizer, applied inside a replica, clips each replica's gradients before
  they are summed: here it is applied outside the replicas, to the summed gradients.
* The dropout seed state is mirrored, so every replica would draw the same masks for
  its rows: `model.ReplicaDropout` folds the replica id into the seed.

The checkpointed state is the whole [batch_size, hidden_size] state, gathered from the
replicas after every compiled call: a checkpoint resumes on any number of replicas.
"""

import contextlib
import functools
import json

import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import files, reader
from ptb_rnn.config import ConfigError
from ptb_rnn.model.network import PTBModel, State, replica_id
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import cluster, steps

# What a collective raises on a worker whose peer has gone (killed, crashed, or stopped).
LOST_WORKER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
    tf.errors.AbortedError,
)


@functools.cache
def create_strategy(name: str, cpu_devices: int = 1) -> tf.distribute.Strategy | None:
    """The tf.distribute strategy named by `RunSpec.strategy`; None for one device.

    TensorFlow allows one set-up per process, before it runs anything: call this first
    (train.py does, before the corpus is read); later calls return the same strategy.

    Args:
      name: "one_device", "mirrored" (every GPU of this machine, or without GPUs the
        CPU split into cpu_devices logical devices) or "multi_worker" (the workers
        TF_CONFIG names, see cluster.py).
      cpu_devices: logical CPU devices for "mirrored" on a machine without GPUs.

    Raises:
      ConfigError: TF_CONFIG is missing or malformed, or TensorFlow has already started.
    """
    if name == "one_device":
        return None
    try:
        if name == "multi_worker":
            cluster.from_environment()  # a clear error rather than TensorFlow's
            return tf.distribute.MultiWorkerMirroredStrategy()
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        if cpu_devices > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices
            )
        return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(cpu_devices)])
    except RuntimeError as e:
        raise ConfigError(
            f"cannot set up --strategy={name} ({e}): TensorFlow had already started; "
            "create the strategy (replicas.create_strategy) before anything else runs."
        ) from None


def num_replicas(strategy: tf.distribute.Strategy | None) -> int:
    """How many replicas share each window's rows: 1 without a strategy."""
    return 1 if strategy is None else strategy.num_replicas_in_sync


def scope(strategy: tf.distribute.Strategy | None):
    """Where to create the model and the optimizer: the strategy's scope (one copy of
    every variable per replica), or nothing special on one device."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this process writes the run's files: on one machine, always."""
    return strategy is None or strategy.extended.should_checkpoint


def wait_for_workers(strategy: tf.distribute.Strategy | None) -> None:
    """Returns once every worker has called it: a worker that ends before the chief has
    written the results would be reported by the chief's TensorFlow as crashed."""
    if strategy is None:
        return

    @tf.function
    def count_replicas():
        ones = strategy.run(lambda: tf.constant(1))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, ones, axis=None)

    count_replicas()


# Besides the run's identity, what every worker must share: where the compiled calls end,
# after each of which the workers gather the state together.
LOCKSTEP_FIELDS = (
    "windows_per_call",
    "checkpoint_every_steps",
    "curve_points_per_epoch",
    "fused_lstm",
    "deterministic",
)


def check_workers_agree(
    strategy: tf.distribute.Strategy, spec: RunSpec, corpus: reader.Corpus
) -> None:
    """Checks that every worker runs the same run (the one exchange before training).

    Each worker's `RunSpec.identity` (the corpus hash included) and LOCKSTEP_FIELDS are
    gathered on every worker as JSON bytes, and each compares the others' with its own.

    Raises:
      ConfigError: another worker differs; the message names the setting.
    """
    run = {**spec.identity(corpus), **{name: getattr(spec, name) for name in LOCKSTEP_FIELDS}}
    workers = cluster.from_environment()
    mine = {"task": workers.name(workers.task_type, workers.task_index), "run": run}
    text = np.frombuffer(json.dumps(mine).encode(), dtype=np.uint8).astype(np.int32)

    @tf.function
    def gather(value):
        return strategy.gather(value, axis=0)

    def per_replica(array):
        return strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(array)
        )

    lengths = gather(per_replica(np.array([len(text)], np.int32))).numpy()
    padded = np.zeros([1, lengths.max()], np.int32)
    padded[0, : len(text)] = text
    rows = gather(per_replica(padded)).numpy()
    for length, row in zip(lengths, rows):
        other = json.loads(row[:length].astype(np.uint8).tobytes())
        found = files.differences(other["run"], run)
        if found:
            raise ConfigError(
                f"{other['task']} has another run than this {mine['task']} "
                f"({', '.join(found)}); start every worker with the same flags and the "
                "same corpus."
            )


def distribute_rows(strategy: tf.distribute.Strategy, value, axis: int):
    """Gives each replica its own contiguous block of value's rows along axis."""
    rows = value.shape[axis] // strategy.num_replicas_in_sync

    def block(context):
        start = context.replica_id_in_sync_group * rows
        return value[(slice(None),) * axis + (slice(start, start + rows),)]

    return strategy.experimental_distribute_values_from_function(block)


def per_replica(fn, jit_compile: bool):
    """fn compiled once for each replica it runs in (called inside `strategy.run`).

    One function traced for all replicas would be pinned to the first one's device,
    and would bake in its replica id (which `model.ReplicaDropout` reads when traced).
    """
    compiled = {}  # replica id -> fn compiled for it

    def call(*args):
        replica = replica_id()
        if replica not in compiled:
            compiled[replica] = tf.function(fn, jit_compile=jit_compile)
        return compiled[replica](*args)

    return call


def make_train_steps(
    strategy: tf.distribute.Strategy | None,
    model: PTBModel,
    optimizer: keras.optimizers.Optimizer,
    carry_state: bool = True,
    jit_compile: bool | None = None,
):
    """`steps.make_train_steps`, spread over the strategy's replicas if there is one.

    Without a strategy this is `steps.make_train_steps` itself: the whole step,
    all-in-one XLA program, as fast as before.

    The same contract: `train_steps(xs, ys, state) -> (losses, final_state)` with xs and
    ys (num_windows, batch_size, num_steps), the state and final_state whole
    ((h, c) of each layer, (batch_size, hidden_size)), one update per window and
    losses (num_windows,) the batch mean of each window, as on one device. Every
    worker calls it with the same whole windows and takes its replicas' rows.

    Args:
      strategy: from `create_strategy`; the model and optimizer come from `build`.
      model, optimizer, carry_state, jit_compile: as for `steps.make_train_steps`;
        jit_compile applies to each replica's forward and backward pass.
    """
    if strategy is None:
        return steps.make_train_steps(model, optimizer, carry_state, jit_compile)
    replica_count = strategy.num_replicas_in_sync

    def forward_backward(x, y, state: State):
        with tf.GradientTape() as tape:
            loss, state = steps.window_loss(model, x, y, state, training=True)
            loss = loss / replica_count  # its rows' share of the batch mean
        return loss, tape.gradient(loss, model.trainable_variables), state

    compiled_forward_backward = per_replica(
        forward_backward, steps.compile_with_xla(model, jit_compile)
    )

    def replica_window(xs, ys, state: State, i):
        if not carry_state:
            state = tf.nest.map_structure(tf.zeros_like, state)
        loss, grads, state = compiled_forward_backward(xs[i], ys[i], state)
        # One all-reduce for the loss and the gradients (sparse ones are gathered).
        context = tf.distribute.get_replica_context()
        loss, grads = context.all_reduce(tf.distribute.ReduceOp.SUM, (loss, grads))
        return loss, grads, state

    @tf.function
    def train_window(xs, ys, state, i):
        loss, grads, state = strategy.run(replica_window, args=(xs, ys, state, i))
        # Every replica holds the same sums: apply this worker's first copy of the
        # gradients to all its copies of the weights (the optimizer clips them to
        # global_clipnorm, as on one device).
        loss, grads = tf.nest.map_structure(
            lambda v: strategy.experimental_local_results(v)[0], (loss, grads)
        )
        optimizer.apply(grads, model.trainable_variables)
        return loss, state

    @tf.function
    def gather(state):
        return tf.nest.map_structure(lambda t: strategy.gather(t, axis=0), state)

    def train_steps(xs, ys, state: State):
        num_windows = len(xs)
        xs = distribute_rows(strategy, xs, axis=1)  # (num_windows, batch_size / R, num_steps)
        ys = distribute_rows(strategy, ys, axis=1)
        state = tf.nest.map_structure(lambda t: distribute_rows(strategy, t, axis=0), state)
        losses = []
        for i in range(num_windows):
            loss, state = train_window(xs, ys, state, tf.constant(i))
            losses.append(loss)
        return tf.stack(losses), gather(state)

    return train_steps
