"""The measurements: steady-state speed of the compiled steps, matmul rates, memory.

The ids are random: speed does not depend on which words are read.
"""

import os
import resource
import statistics
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import evaluate
from ptb_rnn.config import Config
from ptb_rnn.model.network import PTBModel, build_model
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import replicas, steps

MATMUL_SIZE = 4096
MATMUL_REPEATS = 10
# The matmul rates reported: (name, dtype, jit_compile).
MATMUL_KINDS = (
    ("float32", tf.float32, False),
    ("float32_xla", tf.float32, True),
    ("bfloat16", tf.bfloat16, False),
    ("bfloat16_xla", tf.bfloat16, True),
)


def window_matmuls(config: Config) -> dict[tuple[int, int, int], int]:
    """The matmuls of one training window of the fused LSTM and the softmax layer, at
    their real sizes: (m, k, n) of an [m, k] x [k, n] product -> how many per window.

    With B = batch_size, T = num_steps, H = hidden_size, V = vocab_size, each LSTM layer
    computes its input projection for all steps at once ([B*T, H] x [H, 4H]), the
    recurrent product at every step ([B, H] x [H, 4H]), and backward the gradient into h
    at every step ([B, 4H] x [4H, H]) and three products over all steps (the kernel's
    and recurrent kernel's gradients, [H, B*T] x [B*T, 4H], and the input's, [B*T, 4H]
    x [4H, H]); the softmax layer one product forward ([B*T, H] x [H, V]) and two
    backward ([B*T, V] x [V, H] and [H, B*T] x [B*T, V]). The embedding is a lookup.
    """
    b, t, h, v = config.batch_size, config.num_steps, config.hidden_size, config.vocab_size
    # (shape, count) pairs, not a dict: two products can have the same shape (with
    # num_steps 1, or batch_size x num_steps = hidden_size), and both count.
    per_layer = [
        ((b * t, h, 4 * h), 1),  # input projection
        ((b, h, 4 * h), t),  # recurrent product, each step
        ((b, 4 * h, h), t),  # gradient into h, each step
        ((h, b * t, 4 * h), 2),  # kernel and recurrent kernel gradients
        ((b * t, 4 * h, h), 1),  # input gradient
    ]
    softmax = [((b * t, h, v), 1), ((b * t, v, h), 1), ((h, b * t, v), 1)]
    counts: dict[tuple[int, int, int], int] = {}
    for shape, count in [(s, c * config.num_layers) for s, c in per_layer] + softmax:
        counts[shape] = counts.get(shape, 0) + count
    return counts


def matmul_roof(config: Config, precision: str) -> dict:
    """How fast training could be if a window cost only its matmuls, each at the rate
    this machine runs it at its real size (`window_matmuls`), in the run's precision:
    bfloat16 through oneDNN for mixed_bfloat16, float32 under XLA for float32 (where
    each precision's training step runs). Each shape is timed as a chain of as many
    products as a window has (`matmul_gflops`): 70 per-step products of a 2-layer
    window share one call's cost, as they do in the step.

    Returns:
      {"window_seconds": the matmuls' time per window, "words_per_second": the roof,
      "matmuls": [{"shape", "count", "gflops"}] per distinct shape}.
    """
    dtype, jit_compile = (
        (tf.bfloat16, False) if precision == "mixed_bfloat16" else (tf.float32, True)
    )
    matmuls, seconds = [], 0.0
    for (m, k, n), count in window_matmuls(config).items():
        gflops = matmul_gflops((m, k, n), dtype, jit_compile, chain=count)
        seconds += count * 2 * m * k * n / (gflops * 1e9)
        matmuls.append({"shape": [m, k, n], "count": count, "gflops": gflops})
    words = config.batch_size * config.num_steps
    return {"window_seconds": seconds, "words_per_second": words / seconds, "matmuls": matmuls}


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


def matmul_gflops(
    shape: tuple[int, int, int] = (MATMUL_SIZE,) * 3,
    dtype: tf.DType = tf.float32,
    jit_compile: bool = False,
    chain: int = 1,
) -> float:
    """GFLOP/s of an [m, k] x [k, n] matmul through TensorFlow; shape is (m, k, n).

    Without XLA the matmul runs in oneDNN. With chain > 1, one compiled call runs chain
    products one after the other, each input waiting for the previous product (as a
    window's per-step products do), so that the cost of a call is shared by chain
    products rather than charged to one: a [20, 650] x [650, 2600] product takes about
    half a millisecond, a call about a tenth of one. The fastest of MATMUL_REPEATS: the
    machine's rate, since other work on a shared machine only ever slows a repeat down
    (a median once came out at 112 GFLOP/s on a machine that usually gives 180-200).
    """
    m, k, n = shape
    a = tf.cast(tf.random.uniform([m, k]), dtype)
    b = tf.cast(tf.random.uniform([k, n]), dtype)

    @tf.function(jit_compile=jit_compile)
    def products(a, b):
        for _ in range(chain - 1):
            # The next product's input depends on this one's output (through a zero).
            a = a + tf.matmul(a, b)[0, 0] * tf.constant(0, dtype)
        return tf.matmul(a, b)

    products(a, b).numpy()  # compile and warm up
    seconds = min(wall_seconds(lambda: products(a, b).numpy(), MATMUL_REPEATS))
    return 2 * m * k * n * chain / seconds / 1e9


def matmul_rates(shape: tuple[int, int, int]) -> dict:
    """`matmul_gflops` of shape in float32 and bfloat16, in and out of XLA, by kind."""
    rates = {"shape": list(shape)}
    for name, dtype, jit_compile in MATMUL_KINDS:
        rates[name] = matmul_gflops(shape, dtype, jit_compile)
    return rates


# Runs one bfloat16 matmul through oneDNN with its verbose log on.
_ONEDNN_PROBE = """
import tensorflow as tf
a = tf.ones([256, 256], tf.bfloat16)
tf.matmul(a, a).numpy()
"""


def onednn_bfloat16_isa() -> str:
    """The instruction set of oneDNN's bfloat16 matmul kernel on this machine, as its
    verbose log names it: e.g. "avx512_core_amx" (AMX tiles), "avx512_core_bf16"
    (AVX512_BF16), or "none" (no oneDNN bfloat16 kernel ran)."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    probe = subprocess.run(
        [sys.executable, "-c", _ONEDNN_PROBE], capture_output=True, text=True, env=env
    )
    for line in (probe.stdout + probe.stderr).splitlines():
        fields = line.split(",")
        # onednn_verbose,v1,primitive,exec,cpu,matmul,<kernel:isa>,...
        if len(fields) > 6 and fields[3] == "exec" and fields[5] == "matmul" and ":" in fields[6]:
            return fields[6].split(":", 1)[1]
    return "none"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_softmax_steps(model: PTBModel, learning_rate: float, jit_compile: bool | None = None):
    """Like `steps.make_train_steps`, but for the softmax layer alone.

    Each window's embeddings, (batch_size, num_steps, hidden_size), stand in for the
    LSTM outputs; the step computes `PTBModel.softmax_loss` (the model's softmax path and
    precision), the gradients of the softmax weights and of its input, and an SGD
    update of the softmax weights. Its speed bounds the whole model's: three quarters
    of the arithmetic is here.
    """
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    variables = model.softmax.trainable_variables

    def softmax_window(x, y, state):
        inputs = model.embedding(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = model.softmax_loss(inputs, y)
        *grads, d_inputs = tape.gradient(loss, variables + [inputs])
        optimizer.apply(grads, variables)
        # The input gradient is part of the layer's work in training; use it.
        return loss + tf.reduce_sum(d_inputs), state

    return steps.over_windows(
        softmax_window,
        carry_state=True,
        jit_compile=steps.compile_with_xla(model, jit_compile),
    )


class Timer:
    """Times one run's compiled steps on random windows, one timing at a time.

    Timings of two runs can then alternate (`compare` in __main__.py), so that a
    machine whose speed drifts affects both alike.

    Args:
      spec: the run (config, state carried or not, LSTM, softmax path, precision,
        windows per call).
      calls: compiled calls per timing, each of spec.windows_per_call windows.
      jit_compile: XLA or not for every step; None: each step's default (training:
        the precision's choice, `steps.compile_with_xla`; evaluation: XLA).
      timed: the steps to build and compile, among "train", "softmax" (one device
        only) and "valid" (also the test protocol's).
    """

    def __init__(
        self,
        spec: RunSpec,
        calls: int,
        jit_compile: bool | None = None,
        timed: tuple[str, ...] = ("train", "softmax", "valid"),
    ):
        config = spec.config
        self.spec, self.calls = spec, calls
        strategy = replicas.create_strategy(spec.strategy, spec.cpu_devices)
        keras.utils.set_random_seed(0)
        with replicas.scope(strategy):
            self.model = build_model(spec)
            optimizer = steps.make_optimizer(config)
            optimizer.build(self.model.trainable_variables)
        self.jit_compile = steps.compile_with_xla(self.model, jit_compile)  # training's
        self.eval_jit_compile = True if jit_compile is None else jit_compile
        self.steps = {}
        if "train" in timed:
            self.steps["train"] = replicas.make_train_steps(
                strategy, self.model, optimizer, spec.truncation.carry_state, self.jit_compile
            )
        if "valid" in timed:
            self.steps["valid"] = steps.make_eval_steps(
                self.model, jit_compile=self.eval_jit_compile
            )
        if "softmax" in timed and strategy is None:  # the softmax layer alone, on one device
            self.steps["softmax"] = make_softmax_steps(
                self.model, config.learning_rate, self.jit_compile
            )
        rng = np.random.default_rng(0)
        shape = (spec.windows_per_call, config.batch_size, config.num_steps)
        self.xs = rng.integers(0, config.vocab_size, shape).astype(np.int32)
        self.ys = rng.integers(0, config.vocab_size, shape).astype(np.int32)
        self.state = {name: self._run(name, 1) for name in self.steps}  # compiles
        self.compiled_test_words = set()

    def _run(self, name: str, calls: int, state=None):
        """Runs `calls` calls of the named steps from state (zeros if None)."""
        if state is None:
            state = self.model.zero_state(self.spec.config.batch_size)
        for _ in range(calls):
            losses, state = self.steps[name](self.xs, self.ys, state)
        float(losses[0])
        return state

    def words_per_second(self, name: str) -> float:
        """One timing of the named steps ("train", "softmax" or "valid"), in words/s."""
        start = time.perf_counter()
        self.state[name] = self._run(name, self.calls, self.state[name])
        return self.calls * self.xs.size / (time.perf_counter() - start)

    def test_seconds(self, test_words: int) -> float:
        """One timing of the test protocol (batch_size 1, state carried) over test_words
        random words, in seconds; the first call for a length also compiles, untimed."""
        ids = np.random.default_rng(1).integers(0, self.spec.config.vocab_size, test_words)
        ids = ids.astype(np.int32)
        if test_words not in self.compiled_test_words:
            # Both window lengths the stream is cut into: full ones and the last.
            last_window = (test_words - 1) % evaluate.TEST_WINDOW
            warm_up = ids[: evaluate.TEST_WINDOW + last_window + 1]
            evaluate.evaluate_stream(self.steps["valid"], self.model, warm_up)
            self.compiled_test_words.add(test_words)
        start = time.perf_counter()
        evaluate.evaluate_stream(self.steps["valid"], self.model, ids)
        return time.perf_counter() - start


def bench_config(
    spec: RunSpec, calls: int, repeats: int, test_words: int, jit_compile: bool | None = None
) -> dict:
    """Training, validation and test-protocol speed of one run's model and steps."""
    timer = Timer(spec, calls, jit_compile)

    def median_words_per_second(name):
        return statistics.median(timer.words_per_second(name) for _ in range(repeats))

    train_wps = median_words_per_second("train")
    softmax_wps = median_words_per_second("softmax")
    valid_wps = median_words_per_second("valid")
    test_seconds = statistics.median(
        timer.test_seconds(test_words) for _ in range(max(1, repeats // 2))
    )
    train_flops = 3 * timer.model.forward_flops_per_word()
    roof = matmul_roof(spec.config, spec.precision)
    return {
        "windows_per_call": spec.windows_per_call,
        "jit_compile": timer.jit_compile,
        "fused_lstm": spec.fused_lstm,
        "softmax": spec.softmax,
        "precision": spec.precision,
        "train_words_per_second": train_wps,
        "softmax_train_words_per_second": softmax_wps,
        "valid_words_per_second": valid_wps,
        "test_seconds": test_seconds,
        "test_words_per_second": (test_words - 1) / test_seconds,
        "train_flops_per_word": train_flops,
        "train_gflops": train_wps * train_flops / 1e9,
        "matmul_roof": roof,
        "of_roof": train_wps / roof["words_per_second"],
        "peak_rss_mib": peak_rss_mib(),
    }


def compare(
    specs: tuple[RunSpec, RunSpec],
    calls: int,
    rounds: int,
    test_words: int,
    jit_compile: bool | None = None,
) -> dict:
    """Training and validation speed of two runs, timed in alternation.

    Each round times both runs' training, then both runs' validation, in the order
    A, B on even rounds and B, A on odd ones; the ratio B / A is taken within each
    round. The test protocol is timed at the end, A, B, B, A, and each run's median
    kept.

    Returns:
      {"train": {"a": [words/s per round], "b": [...], "ratio": [...]}, "valid": the
      same, "test_seconds": [a, b], "jit_compile": [a, b] (training's)}.
    """
    timers = [Timer(spec, calls, jit_compile, timed=("train", "valid")) for spec in specs]
    result = {name: {"a": [], "b": [], "ratio": []} for name in ("train", "valid")}
    for round_number in range(rounds):
        order = (0, 1) if round_number % 2 == 0 else (1, 0)
        for name, timings in result.items():
            speeds = {i: timers[i].words_per_second(name) for i in order}
            timings["a"].append(speeds[0])
            timings["b"].append(speeds[1])
            timings["ratio"].append(speeds[1] / speeds[0])
    test_seconds = {0: [], 1: []}
    for i in (0, 1, 1, 0):
        test_seconds[i].append(timers[i].test_seconds(test_words))
    result["test_seconds"] = [statistics.median(test_seconds[i]) for i in (0, 1)]
    result["jit_compile"] = [timer.jit_compile for timer in timers]
    return result
