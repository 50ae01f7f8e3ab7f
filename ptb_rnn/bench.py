"""Measures training and evaluation speed, and how close training gets to the CPU's peak.

    python -m ptb_rnn.bench [--config=small] [--configs=small,medium] [--json=PATH]
    make bench

For each config: training words/s in steady state (after compiling, the median of
--repeats timings of --calls calls of --windows_per_call windows each), the same for
the softmax layer alone (a bound on training speed; see make_softmax_steps),
validation words/s (training layout, state carried), the test protocol (batch_size 1,
state carried, over --test_words words) in seconds and words/s, and the process's
peak memory. The arithmetic the model does per training word
(`PTBModel.forward_flops_per_word`, x3 for forward + backward) divided by the time per
word gives the achieved GFLOP/s, compared with the rate of a large float32 matmul
through TensorFlow measured in the same run (the fastest of 10), so the ratio holds on
any machine.

The ids are random: speed does not depend on which words are read.
"""

import os
import platform
import resource
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from absl import flags

from ptb_rnn import cli, loop
from ptb_rnn.config import get_config
from ptb_rnn.model import PTBModel

flags.DEFINE_list("configs", None, "Configs to measure (default: --config).")
flags.DEFINE_integer("calls", 5, "Compiled calls per timing (each --windows_per_call windows).")
flags.DEFINE_integer("repeats", 3, "Timings per measurement; the median is reported.")
flags.DEFINE_integer("test_words", 82430, "Words of the batch_size-1 test stream (PTB's).")
flags.DEFINE_integer(
    "windows_per_call", None, "Windows per compiled call (default loop.WINDOWS_PER_CALL)."
)
flags.DEFINE_boolean("jit_compile", True, "Compile the steps with XLA.")
flags.DEFINE_boolean(
    "fused_lstm", True, "Use the fused LSTM (lstm.py); --nofused_lstm: keras.layers.LSTM."
)
flags.DEFINE_string("json", None, "Also write the numbers to this JSON file.")
FLAGS = flags.FLAGS

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
    """Like `loop.make_train_steps`, but for the softmax layer alone.

    Each window's embeddings, (batch_size, num_steps, hidden_size), stand in for the
    LSTM outputs; the step computes the logits, `loop.sequence_loss`, the gradients
    of the softmax weights and of its input, and an SGD update of the softmax weights.
    Its speed bounds the whole model's: three quarters of the arithmetic is here.
    """
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)

    @tf.function(jit_compile=jit_compile)
    def softmax_steps(xs, ys, state):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
            inputs = model.embedding(xs[i])
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = loop.sequence_loss(model.softmax(inputs), ys[i])
            variables = model.softmax.trainable_variables
            *grads, d_inputs = tape.gradient(loss, variables + [inputs])
            optimizer.apply(grads, variables)
            # The input gradient is part of the layer's work in training; use it.
            losses = losses.write(i, loss + tf.reduce_sum(d_inputs))
        return losses.stack(), state

    return softmax_steps


def bench_config(
    name: str,
    overrides: dict,
    calls: int,
    repeats: int,
    test_words: int,
    windows_per_call: int = loop.WINDOWS_PER_CALL,
    jit_compile: bool = True,
    fused_lstm: bool = True,
) -> dict:
    """Training, validation and test-protocol speed of one config."""
    config = get_config(name, **overrides)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = PTBModel(config, fused_lstm=fused_lstm).build_for(config.batch_size)
    optimizer = loop.make_optimizer(config)
    train_steps = loop.make_train_steps(model, optimizer, jit_compile=jit_compile)
    eval_steps = loop.make_eval_steps(model, jit_compile=jit_compile)
    shape = (windows_per_call, config.batch_size, config.num_steps)
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
    loop.evaluate_stream(eval_steps, model, test_ids[: 2 * loop.TEST_WINDOW + 7])  # compile
    test_seconds = median_seconds(
        lambda: loop.evaluate_stream(eval_steps, model, test_ids), max(1, repeats // 2)
    )
    train_flops = 3 * model.forward_flops_per_word()
    return {
        "config": name,
        "overrides": overrides,
        "windows_per_call": windows_per_call,
        "jit_compile": jit_compile,
        "fused_lstm": fused_lstm,
        "train_words_per_second": train_wps,
        "softmax_train_words_per_second": softmax_wps,
        "valid_words_per_second": valid_wps,
        "test_seconds": test_seconds,
        "test_words_per_second": (test_words - 1) / test_seconds,
        "train_flops_per_word": train_flops,
        "train_gflops": train_wps * train_flops / 1e9,
        "peak_rss_mib": peak_rss_mib(),
    }


def machine() -> dict:
    """CPU model and cores, and library versions."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def format_table(report: dict) -> str:
    """The report as a plain-text table."""
    peak = report["matmul_gflops"]
    lines = [
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"TF {report['machine']['tensorflow']}, Keras {report['machine']['keras']}",
        f"float32 matmul {MATMUL_SIZE}x{MATMUL_SIZE}: {peak:.1f} GFLOP/s "
        f"(fastest of {MATMUL_REPEATS})",
        "",
        f"{'config':<8} {'lstm':<6} {'train w/s':>10} {'softmax w/s':>12} {'valid w/s':>10} "
        f"{'test s':>7} {'test w/s':>9} "
        f"{'MFLOP/word':>11} {'GFLOP/s':>8} {'of matmul':>10} {'RSS MiB':>8}",
    ]
    for row in report["configs"]:
        lines.append(
            f"{row['config']:<8} {'fused' if row['fused_lstm'] else 'keras':<6} "
            f"{row['train_words_per_second']:>10.0f} "
            f"{row['softmax_train_words_per_second']:>12.0f} "
            f"{row['valid_words_per_second']:>10.0f} {row['test_seconds']:>7.1f} "
            f"{row['test_words_per_second']:>9.0f} {row['train_flops_per_word'] / 1e6:>11.1f} "
            f"{row['train_gflops']:>8.1f} {row['train_gflops'] / peak:>10.1%} "
            f"{row['peak_rss_mib']:>8.0f}"
        )
    return "\n".join(lines)


def main(argv):
    del argv
    names = FLAGS.configs or [FLAGS.config]
    for name in names:
        get_config(name)  # an unknown name fails before any measuring
    # Field flags (e.g. --hidden_size) apply to every config measured.
    overrides = {k: v for k, v in vars(cli.config_from_flags()).items() if FLAGS[k].present}
    report = {"machine": machine(), "matmul_gflops": matmul_gflops(), "configs": []}
    for name in names:
        row = bench_config(
            name,
            overrides,
            FLAGS.calls,
            FLAGS.repeats,
            FLAGS.test_words,
            FLAGS.windows_per_call or loop.WINDOWS_PER_CALL,
            FLAGS.jit_compile,
            FLAGS.fused_lstm,
        )
        report["configs"].append(row)
    print(format_table(report))
    if FLAGS.json:
        loop.write_json_atomic(FLAGS.json, report)


if __name__ == "__main__":
    cli.run(main)
