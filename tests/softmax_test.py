import math

import numpy as np
import tensorflow as tf

from ptb_rnn.model import softmax


def loss_and_gradients(loss_fn, outputs, kernel, bias, jit_compile=False):
    """loss_fn(outputs, kernel, bias) and its gradients with respect to all three."""

    @tf.function(jit_compile=jit_compile)
    def compute(outputs, kernel, bias):
        with tf.GradientTape() as tape:
            tape.watch([outputs, kernel, bias])
            loss = loss_fn(outputs, kernel, bias)
        return loss, tape.gradient(loss, [outputs, kernel, bias])

    return compute(outputs, kernel, bias)


def dense_loss(targets):
    """The dense path: logits as keras.layers.Dense computes them, then sequence_loss."""
    return lambda outputs, kernel, bias: softmax.sequence_loss(
        tf.einsum("bth,hv->btv", outputs, kernel) + bias, targets
    )


def fused_loss(targets, precision="float32"):
    return lambda outputs, kernel, bias: softmax.fused_sequence_loss(
        outputs, kernel, bias, targets, precision
    )


class FusedSequenceLossTest(tf.test.TestCase):
    def test_by_hand(self):
        # Batch of 2, one step, one unit, two words. Row 0: h = 1, logits (ln 3, 0),
        # softmax (3/4, 1/4), target 0. Row 1: h = 0, logits (0, 0), softmax (1/2, 1/2),
        # target 1. g = (softmax - one_hot) / batch_size = (-1/8, 1/8) and (1/4, -1/4).
        outputs = tf.constant([[[1.0]], [[0.0]]])  # (2, 1, 1)
        kernel = tf.constant([[math.log(3.0), 0.0]])  # (1, 2)
        bias = tf.zeros([2])
        targets = tf.constant([[0], [1]])
        loss, (d_outputs, d_kernel, d_bias) = loss_and_gradients(
            fused_loss(targets), outputs, kernel, bias
        )
        # The batch mean of -log(3/4) and -log(1/2).
        self.assertAllClose(loss, (math.log(4 / 3) + math.log(2)) / 2)
        # dh = g @ kernel^T: -ln(3)/8 and ln(3)/4.
        self.assertAllClose(d_outputs, [[[-math.log(3.0) / 8]], [[math.log(3.0) / 4]]])
        self.assertAllClose(d_kernel, [[-1 / 8, 1 / 8]])  # h^T @ g: row 0's g alone
        self.assertAllClose(d_bias, [1 / 8, -1 / 8])  # g summed over the rows

    def check_same_as_dense(self, jit_compile):
        rng = np.random.default_rng(0)
        outputs = tf.constant(rng.normal(size=(3, 4, 5)), tf.float32)  # (B, T, H)
        kernel = tf.constant(rng.normal(size=(5, 7)), tf.float32)  # (H, V)
        bias = tf.constant(rng.normal(size=(7,)), tf.float32)
        targets = tf.constant(rng.integers(0, 7, (3, 4)), tf.int32)
        fused = loss_and_gradients(fused_loss(targets), outputs, kernel, bias, jit_compile)
        dense = loss_and_gradients(dense_loss(targets), outputs, kernel, bias, jit_compile)
        self.assertAllClose(fused[0], dense[0], rtol=1e-6, atol=0)
        for name, got, want in zip(["outputs", "kernel", "bias"], fused[1], dense[1]):
            self.assertAllClose(got, want, rtol=1e-5, atol=1e-6, msg=name)

    def test_same_loss_and_gradients_as_the_dense_path(self):
        self.check_same_as_dense(jit_compile=False)

    def test_same_loss_and_gradients_as_the_dense_path_under_xla(self):
        self.check_same_as_dense(jit_compile=True)

    def test_mixed_bfloat16_rounds_the_matmul_inputs(self):
        # 1 + 2^-10 needs 11 bits of mantissa; bfloat16 has 8 and reads it as 1, so
        # the logits are those of the kernel (1, 0): the loss is -log softmax(1, 0)[0].
        outputs = tf.ones([1, 1, 1])
        kernel = tf.constant([[1.0 + 2**-10, 0.0]])
        targets = tf.constant([[0]])
        loss, grads = loss_and_gradients(
            fused_loss(targets, "mixed_bfloat16"), outputs, kernel, tf.zeros([2])
        )
        # (float32 would give 0.3130, 2.6e-4 less.)
        self.assertAllClose(loss, math.log(1 + math.exp(-1.0)), rtol=1e-6)  # 0.3133
        self.assertEqual([g.dtype for g in grads], [tf.float32] * 3)


if __name__ == "__main__":
    tf.test.main()
