"""The measurements: steady-state speed of the compiled steps, a matmul's rate, memory.

The ids are random: speed does not depend on which words are read.
"""

import resource
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import evaluate, steps
from ptb_rnn.config import Config
from ptb_rnn.model import PTBModel
from ptb_rnn.spec import RunSpec

MATMUL_SIZE = 4096
MATMUL_REPEATS = 10


def wall_seconds(fn, repeats: int) -> list[float]:
    """The wall time of each of repeats calls of fn()."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(fn, repeats: int) -> float:
    """The median wall time of fn() over repeats calls."""
    return statistics.median(wall_seconds(fn, repeats))


def matmul_gflops(size: int = MATMUL_SIZE) -> float:
    """GFLOP/s of a [size, size] x [size, size] float32 matmul through TensorFlow.

    The fastest of MATMUL_REPEATS: the machine's rate, since other work on a
    shared machine only ever slows a repeat down (a median once came out at 112
    GFLOP/s on a machine that usually gives 180-200).
    """
    a = tf.random.uniform([size, size])
    b = tf.random.uniform([size, size])
    matmul = tf.function(lambda a, b: tf.matmul(a, b))
    matmul(a, b).numpy()  # compile and warm up
    seconds = min(wall_seconds(lambda: matmul(a, b).numpy(), MATMUL_REPEATS))
    return 2 * size**3 / seconds / 1e9


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_softmax_steps(model: PTBModel, learning_rate: float, jit_compile: bool = True):
    """Like `steps.make_train_steps`, but for the softmax layer alone.

    Each window's embeddings, (batch_size, num_steps, hidden_size), stand in for the
    LSTM outputs; the step computes the logits, `steps.sequence_loss`, the gradients
    of the softmax weights and of its input, and an SGD update of the softmax weights.
    Its speed bounds the whole model's: three quarters of the arithmetic is here.
    """
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    variables = model.softmax.trainable_variables

    def softmax_window(x, y, state):
        inputs = model.embedding(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = steps.sequence_loss(model.softmax(inputs), y)
        *grads, d_inputs = tape.gradient(loss, variables + [inputs])
        optimizer.apply(grads, variables)
        # The input gradient is part of the layer's work in training; use it.
        return loss + tf.reduce_sum(d_inputs), state

    return steps.over_windows(softmax_window, carry_state=True, jit_compile=jit_compile)


def bench_config(
    spec: RunSpec, calls: int, repeats: int, test_words: int, jit_compile: bool = True
) -> dict:
    """Training, validation and test-protocol speed of one run's model and steps."""
    config: Config = spec.config
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = PTBModel(config, fused_lstm=spec.fused_lstm).build_for(config.batch_size)
    optimizer = steps.make_optimizer(config)
    train_steps = steps.make_train_steps(model, optimizer, jit_compile=jit_compile)
    eval_steps = steps.make_eval_steps(model, jit_compile=jit_compile)
    shape = (spec.windows_per_call, config.batch_size, config.num_steps)
    xs = rng.integers(0, config.vocab_size, shape).astype(np.int32)
    ys = rng.integers(0, config.vocab_size, shape).astype(np.int32)
    words_per_call = xs.size

    def timed(steps_fn):
        state = model.zero_state(config.batch_size)
        losses, state = steps_fn(xs, ys, state)  # compile
        float(losses[0])

        def run():
            nonlocal state
            for _ in range(calls):
                losses, state = steps_fn(xs, ys, state)
            float(losses[0])

        return calls * words_per_call / median_seconds(run, repeats)

    train_wps = timed(train_steps)
    softmax_wps = timed(make_softmax_steps(model, config.learning_rate, jit_compile))
    valid_wps = timed(eval_steps)
    test_ids = rng.integers(0, config.vocab_size, test_words).astype(np.int32)
    evaluate.evaluate_stream(eval_steps, model, test_ids[: 2 * evaluate.TEST_WINDOW + 7])
    test_seconds = median_seconds(
        lambda: evaluate.evaluate_stream(eval_steps, model, test_ids), max(1, repeats // 2)
    )
    train_flops = 3 * model.forward_flops_per_word()
    return {
        "windows_per_call": spec.windows_per_call,
        "jit_compile": jit_compile,
        "fused_lstm": spec.fused_lstm,
        "train_words_per_second": train_wps,
        "softmax_train_words_per_second": softmax_wps,
        "valid_words_per_second": valid_wps,
        "test_seconds": test_seconds,
        "test_words_per_second": (test_words - 1) / test_seconds,
        "train_flops_per_word": train_flops,
        "train_gflops": train_wps * train_flops / 1e9,
        "peak_rss_mib": peak_rss_mib(),
    }
