"""What replicas_test.py runs in a fresh process: TensorFlow's devices are set up once,
before it starts, so a test of two logical CPUs needs a process of its own.

    python tests/replicas_job.py CONFIG OUTPUT.json CHECKPOINT_DIR

Splits the CPU into two logical devices and, on the first windows of real PTB with the
CONFIG (no dropout), trains the same model on one device and on two replicas
(MirroredStrategy); writes to OUTPUT.json what replicas_test.py compares: the losses,
the weights and the carried state of each, the next-window losses after a checkpoint
is moved from one topology to the other, and the dropout masks of two replicas.
"""

import dataclasses
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ptb_rnn import reader  # noqa: E402
from ptb_rnn.config import get_config  # noqa: E402
from ptb_rnn.model.network import build_model  # noqa: E402
from ptb_rnn.spec import RunSpec  # noqa: E402
from ptb_rnn.training import replicas, steps  # noqa: E402
from ptb_rnn.training.epoch import EpochState  # noqa: E402
from ptb_rnn.training.history import History  # noqa: E402

WINDOWS = 20  # windows trained before comparing
RESUMED = 2  # windows trained after moving a checkpoint
PTB_DIR = os.environ["PTB_DIR"]


def build(spec, strategy):
    """The run's model and optimizer in the strategy's scope, as the trainer builds them."""
    with replicas.scope(strategy):
        model = build_model(spec)
        optimizer = steps.make_optimizer(spec.config)
        optimizer.build(model.trainable_variables)
    return model, optimizer


def main(config_name: str, output_path: str, checkpoint_dir: str) -> None:
    strategy = replicas.create_strategy("mirrored", cpu_devices=2)  # before anything else
    import keras
    import tensorflow as tf

    from ptb_rnn.training.checkpoint import RunCheckpoints

    corpus = reader.load_corpus(PTB_DIR)
    spec = RunSpec(get_config(config_name))
    config = spec.config
    batches = reader.ptb_producer(corpus.train, config.batch_size, config.num_steps)
    windows = [
        batches.window_at(i * config.num_steps, config.num_steps) for i in range(WINDOWS + RESUMED)
    ]
    xs = np.stack([x for x, _ in windows])  # (WINDOWS + RESUMED, batch_size, num_steps)
    ys = np.stack([y for _, y in windows])
    next_xs, next_ys = xs[WINDOWS : WINDOWS + RESUMED], ys[WINDOWS : WINDOWS + RESUMED]

    def start(topology, seed=0):
        keras.utils.set_random_seed(seed)
        model, optimizer = build(spec, topology)
        return model, optimizer, replicas.make_train_steps(topology, model, optimizer)

    def weights(model):
        return [v.numpy().tolist() for v in model.trainable_variables]

    def state_list(state):
        return [t.numpy().tolist() for t in tf.nest.flatten(state)]

    output = {}
    runs = {}
    for name, topology in (("one_device", None), ("two_replicas", strategy)):
        model, optimizer, train_steps = start(topology)
        losses, state = train_steps(xs[:WINDOWS], ys[:WINDOWS], model.zero_state(config.batch_size))
        output[name] = {
            "losses": losses.numpy().tolist(),
            "weights": weights(model),
            "state": state_list(state),
        }
        # Save after WINDOWS windows, then train on to the uninterrupted next losses.
        directory = os.path.join(checkpoint_dir, name)
        RunCheckpoints(directory, model, optimizer, config.batch_size).save(
            0, EpochState(state, WINDOWS), History({}, {})
        )
        more, _ = train_steps(next_xs, next_ys, state)
        output[name]["next_losses"] = more.numpy().tolist()
        runs[name] = directory

    # Each checkpoint resumes on the other topology (seed 1: different initial weights,
    # which the restore must overwrite).
    for saved, topology, name in (
        ("two_replicas", None, "two_replicas_to_one_device"),
        ("one_device", strategy, "one_device_to_two_replicas"),
    ):
        model, optimizer, train_steps = start(topology, seed=1)
        _, _, epoch_state, _ = RunCheckpoints(
            runs[saved], model, optimizer, config.batch_size
        ).restore()
        more, _ = train_steps(next_xs, next_ys, epoch_state.lstm_state)
        output[name] = more.numpy().tolist()

    # Dropout: the masks each replica draws for its rows of a window of ones.
    dropout_spec = dataclasses.replace(spec, config=dataclasses.replace(config, keep_prob=0.5))
    model, _ = build(dropout_spec, strategy)
    ones = tf.ones([config.batch_size // 2, 20, 50])  # each replica's rows; 10,000 draws
    draw = replicas.per_replica(lambda: model.input_dropout(ones, training=True), True)
    masks = tf.function(lambda: strategy.run(draw))()
    masks = strategy.experimental_local_results(masks)
    output["dropout_masks"] = [m.numpy().tolist() for m in masks]
    with open(output_path, "w") as f:
        json.dump(output, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
