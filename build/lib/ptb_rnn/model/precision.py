"""Matmuls in the run's precision: float32, or bfloat16 inputs and float32 all around.

With `mixed_bfloat16` each matmul casts its two inputs to bfloat16 and its result back
to float32. Everything else stays float32: the weights and their updates, the carried
LSTM state and the gate arithmetic, the softmax and the loss. oneDNN accumulates a
bfloat16 matmul in float32 but rounds its output to bfloat16 (TensorFlow has no
bfloat16 x bfloat16 -> float32 kernel), so the logits, the pre-activations and every
gradient carry that rounding: about 3 significant digits.

The casts are explicit, at the matmuls, rather than Keras's global `mixed_bfloat16`
policy: under that policy the LSTM returns a bfloat16 state while the zero state is
float32 (the state's dtype would change inside the compiled window loop), and the
carried cell state would itself be rounded to bfloat16 at every step.

XLA's CPU dot does not use the bfloat16 instructions; oneDNN, outside XLA, does. So
`use_xla` tells the training steps where each precision runs fastest (measured in
docs/performance.md).
"""

import tensorflow as tf

FLOAT32 = "float32"
MIXED_BFLOAT16 = "mixed_bfloat16"


def matmul_input(x, precision: str):
    """x as a matmul input: cast to bfloat16 under mixed_bfloat16, as it is in float32."""
    return x if precision == FLOAT32 else tf.cast(x, tf.bfloat16)


def matmul(a, b, precision: str, transpose_a: bool = False, transpose_b: bool = False):
    """`tf.matmul(a, b)` with bfloat16 inputs under mixed_bfloat16; float32 out."""
    product = tf.matmul(
        matmul_input(a, precision),
        matmul_input(b, precision),
        transpose_a=transpose_a,
        transpose_b=transpose_b,
    )
    return tf.cast(product, tf.float32)  # a no-op in float32


def einsum(equation: str, a, b, precision: str):
    """`tf.einsum(equation, a, b)` with bfloat16 inputs under mixed_bfloat16; float32 out."""
    product = tf.einsum(equation, matmul_input(a, precision), matmul_input(b, precision))
    return tf.cast(product, tf.float32)


def use_xla(precision: str) -> bool:
    """Whether training steps should use XLA: yes in float32, not in mixed_bfloat16."""
    return precision == FLOAT32
