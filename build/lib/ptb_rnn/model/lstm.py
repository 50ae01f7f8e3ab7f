"""A fused LSTM: the Keras LSTM's weights and mathematics, with a faster gradient on CPU.

`FusedLSTM` is `keras.layers.LSTM` (the same weights, in the same order and layout) with
its time loop replaced for windows of up to UNROLL_LIMIT steps. Per step and layer,

    z = x_t @ kernel + h @ recurrent_kernel + bias        # (batch_size, 4 * units)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
    c = f * c + i * g
    h = o * tanh(c)

as Keras computes it (gate order i, f, c, o). What changes is the order of the work:

* the input projection `x_t @ kernel + bias` of all steps is one matmul, before the
  recurrence; only `h @ recurrent_kernel` stays inside it;
* the loop is unrolled (the window length is known when the step is compiled);
* the backward pass is written out: the recurrence runs backward over the steps
  carrying only (dh, dc), and the gradients of the three weights are each one large
  matmul over all steps at the end, instead of a small matmul per step.

With precision "mixed_bfloat16" every matmul (forward and backward) takes bfloat16
inputs (`precision.py`); the state, the gates and the weights stay float32.

tests/lstm_test.py checks the loss and every gradient against `keras.layers.LSTM`;
docs/performance.md has what it buys.
"""

import keras
import tensorflow as tf

from ptb_rnn.model import precision as precision_lib

# Windows longer than this take Keras's own (not unrolled) loop, so that a long window
# (the test protocol feeds 1000 words per call) does not compile into a huge program.
UNROLL_LIMIT = 100


def lstm_window(inputs, h, c, kernel, recurrent_kernel, bias, precision: str = "float32"):
    """Runs an LSTM over one window, with a hand-written gradient.

    Args:
      inputs: (batch_size, num_steps, input_size); num_steps must be static.
      h, c: the initial state, each (batch_size, units).
      kernel: (input_size, 4 * units).
      recurrent_kernel: (units, 4 * units).
      bias: (4 * units,).
      precision: "float32", or "mixed_bfloat16" for bfloat16 matmul inputs.

    Returns:
      (outputs, h, c): every step's h, (batch_size, num_steps, units), and the final
      (h, c). Gradients flow to all six arguments.
    """
    num_steps = inputs.shape[1]

    def matmul(a, b, **transpose):
        return precision_lib.matmul(a, b, precision, **transpose)

    def einsum(equation, a, b):
        return precision_lib.einsum(equation, a, b, precision)

    @tf.custom_gradient
    def forward(inputs, h0, c0, kernel, recurrent_kernel, bias):
        projected = einsum("bti,ij->btj", inputs, kernel) + bias  # (B, T, 4 * units)
        # Cast once per window, not at every step (a no-op in float32).
        recurrent = precision_lib.matmul_input(recurrent_kernel, precision)
        h, c = h0, c0
        hs, cs, gates = [], [], []
        for t in range(num_steps):
            z = projected[:, t] + matmul(h, recurrent)
            z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
            i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_g), tf.sigmoid(z_o)
            c = f * c + i * g
            h = o * tf.tanh(c)
            hs.append(h)
            cs.append(c)
            gates.append((i, f, g, o))

        def backward(d_outputs, d_h, d_c):
            # (dh, dc) is the gradient reaching step t's (h, c) from later steps and
            # from the final state; dz_t is the gradient of step t's pre-activations.
            dh, dc = d_h, d_c
            dzs = [None] * num_steps
            for t in reversed(range(num_steps)):
                i, f, g, o = gates[t]
                c_prev = cs[t - 1] if t > 0 else c0
                dh = dh + d_outputs[:, t]
                tanh_c = tf.tanh(cs[t])
                dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
                dzs[t] = tf.concat(
                    [
                        dc * g * i * (1.0 - i),
                        dc * c_prev * f * (1.0 - f),
                        dc * i * (1.0 - g * g),
                        dh * tanh_c * o * (1.0 - o),
                    ],
                    axis=-1,
                )
                dh = matmul(dzs[t], recurrent, transpose_b=True)
                dc = dc * f
            dz = tf.stack(dzs, axis=1)  # (B, T, 4 * units)
            h_prev = tf.stack([h0] + hs[:-1], axis=1)  # (B, T, units)
            d_kernel = einsum("bti,btj->ij", inputs, dz)
            d_recurrent_kernel = einsum("btu,btj->uj", h_prev, dz)
            d_bias = tf.reduce_sum(dz, axis=[0, 1])
            d_inputs = einsum("btj,ij->bti", dz, kernel)
            return d_inputs, dh, dc, d_kernel, d_recurrent_kernel, d_bias

        return (tf.stack(hs, axis=1), h, c), backward

    return forward(inputs, h, c, kernel, recurrent_kernel, bias)


class FusedLSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` computed by `lstm_window` for windows of static length.

    Only the layer this package uses is supported: default activations, no dropout
    inside the cell, no masking, forward in time.

    Args:
      units: the size of h and c.
      precision: "float32", or "mixed_bfloat16" for bfloat16 matmul inputs in the
        windows `lstm_window` runs (longer windows take Keras's loop, in float32).
      **kwargs: as for `keras.layers.LSTM`.
    """

    def __init__(self, units: int, precision: str = "float32", **kwargs):
        super().__init__(units, **kwargs)
        self.precision = precision
        cell = self.cell
        if (
            cell.activation is not keras.activations.tanh
            or cell.recurrent_activation is not keras.activations.sigmoid
            or cell.dropout
            or cell.recurrent_dropout
            or not cell.use_bias
            or self.go_backwards
        ):
            raise ValueError(
                "FusedLSTM supports only tanh/sigmoid activations with a bias, no cell "
                "dropout and no go_backwards; use keras.layers.LSTM for other settings."
            )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        num_steps = sequences.shape[1]
        if mask is not None or num_steps is None or num_steps > UNROLL_LIMIT:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        h, c = initial_state
        outputs, h, c = lstm_window(
            sequences,
            h,
            c,
            tf.convert_to_tensor(self.cell.kernel),
            tf.convert_to_tensor(self.cell.recurrent_kernel),
            tf.convert_to_tensor(self.cell.bias),
            self.precision,
        )
        return h, outputs, [h, c]

    def get_config(self):
        return {**super().get_config(), "precision": self.precision}
