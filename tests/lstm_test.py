import keras
import numpy as np
import tensorflow as tf

from ptb_rnn.config import get_config
from ptb_rnn.model.lstm import UNROLL_LIMIT, FusedLSTM
from ptb_rnn.model.network import PTBModel
from ptb_rnn.model.precision import use_xla
from ptb_rnn.training import steps


def layer_pair(units, input_size, seed=0):
    """A FusedLSTM and a keras.layers.LSTM with the same random weights."""
    layers = []
    for layer_class in (FusedLSTM, keras.layers.LSTM):
        layer = layer_class(units, return_sequences=True, return_state=True)
        layer.build((None, None, input_size))
        layers.append(layer)
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layers[1].weights]
    for layer in layers:
        layer.set_weights(weights)
    return layers


class FusedLSTMTest(tf.test.TestCase):
    def test_one_step_by_hand(self):
        # All weights zero: every gate is sigmoid(0) = 0.5 and g = tanh(0) = 0, so
        # c = 0.5 * c0 = 1 and h = 0.5 * tanh(1).
        layer = FusedLSTM(1, return_sequences=True, return_state=True)
        layer.build((None, None, 1))
        layer.set_weights([np.zeros(w.shape, np.float32) for w in layer.weights])
        initial_state = [tf.zeros([1, 1]), tf.constant([[2.0]])]
        outputs, h, c = layer(tf.ones([1, 1, 1]), initial_state=initial_state)
        self.assertAllClose(c, [[1.0]])
        self.assertAllClose(h, [[0.5 * np.tanh(1.0)]])  # 0.3807971
        self.assertAllClose(outputs, [[[0.5 * np.tanh(1.0)]]])

    def check_same_values_and_gradients(self, num_steps, compiled):
        fused, reference = layer_pair(units=5, input_size=3)
        rng = np.random.default_rng(1)
        inputs = tf.constant(rng.normal(size=(4, num_steps, 3)), tf.float32)
        state = [tf.constant(rng.normal(size=(4, 5)), tf.float32) for _ in range(2)]
        # A loss that reaches the outputs of every step and both final states.
        weights = tf.constant(rng.normal(size=(num_steps, 5)), tf.float32)

        def loss_and_gradients(layer):
            with tf.GradientTape() as tape:
                tape.watch([inputs] + state)
                outputs, h, c = layer(inputs, initial_state=state)
                loss = tf.reduce_sum(outputs * weights) + tf.reduce_sum(h * c)
            sources = [inputs] + state + layer.trainable_variables
            return loss, tape.gradient(loss, sources)

        if compiled:
            loss_and_gradients = tf.function(loss_and_gradients, jit_compile=True)
        fused_loss, fused_grads = loss_and_gradients(fused)
        reference_loss, reference_grads = loss_and_gradients(reference)
        self.assertAllClose(fused_loss, reference_loss, rtol=1e-5, atol=0)
        names = ["inputs", "h0", "c0", "kernel", "recurrent_kernel", "bias"]
        self.assertLen(fused_grads, len(names))
        for name, got, want in zip(names, fused_grads, reference_grads):
            self.assertAllClose(got, want, rtol=1e-5, atol=1e-5, msg=name)

    def test_same_values_and_gradients_as_keras_lstm(self):
        self.check_same_values_and_gradients(num_steps=7, compiled=False)

    def test_same_values_and_gradients_as_keras_lstm_under_xla(self):
        self.check_same_values_and_gradients(num_steps=7, compiled=True)

    def test_long_windows_take_the_keras_loop(self):
        self.check_same_values_and_gradients(num_steps=UNROLL_LIMIT + 1, compiled=False)

    def test_mixed_bfloat16_reads_the_kernel_in_bfloat16(self):
        # A kernel of 1 + 2^-10 is 1 in bfloat16 (8 bits of mantissa): two steps give
        # the float32 layer's outputs and state with a kernel of exactly 1, in float32.
        def one_unit_layer(kernel, precision):
            layer = FusedLSTM(1, return_sequences=True, return_state=True, precision=precision)
            layer.build((None, None, 1))
            layer.set_weights(
                [np.full((1, 4), kernel, np.float32), np.zeros((1, 4), np.float32), np.zeros(4)]
            )
            return layer

        inputs, state = tf.ones([1, 2, 1]), [tf.zeros([1, 1]), tf.zeros([1, 1])]
        got = one_unit_layer(1.0 + 2**-10, "mixed_bfloat16")(inputs, initial_state=state)
        want = one_unit_layer(1.0, "float32")(inputs, initial_state=state)
        for name, got_part, want_part in zip(["outputs", "h", "c"], got, want):
            self.assertEqual(got_part.dtype, tf.float32, msg=name)
            self.assertAllClose(got_part, want_part, rtol=1e-6, atol=0, msg=name)

    def test_mixed_bfloat16_gradients_equal_float32_to_bfloat16_rounding(self):
        fused, _ = layer_pair(units=5, input_size=3)
        rng = np.random.default_rng(2)
        inputs = tf.constant(rng.uniform(-1, 1, [2, 6, 3]).astype(np.float32))
        state = [tf.zeros([2, 5]), tf.zeros([2, 5])]
        results = {}
        for precision in ("float32", "mixed_bfloat16"):
            fused.precision = precision

            @tf.function(jit_compile=use_xla(precision))
            def loss_and_grads():
                with tf.GradientTape() as tape:
                    outputs, h, c = fused(inputs, initial_state=state)
                    loss = tf.reduce_sum(outputs * outputs) + tf.reduce_sum(c)
                return loss, tape.gradient(loss, fused.trainable_weights)

            results[precision] = loss_and_grads()
        (loss32, grads32), (loss16, grads16) = results.values()
        self.assertAllClose(loss16, loss32, rtol=2e-2)
        for g16, g32 in zip(grads16, grads32):
            self.assertAllClose(g16, g32, rtol=3e-2, atol=3e-2)

    def test_unsupported_settings_are_refused(self):
        with self.assertRaisesRegex(ValueError, "use keras.layers.LSTM"):
            FusedLSTM(4, dropout=0.5)
        with self.assertRaisesRegex(ValueError, "use keras.layers.LSTM"):
            FusedLSTM(4, activation="relu")


class SameTrainingAsKerasLSTMTest(tf.test.TestCase):
    """The default model gives the straightforward formulation's losses (issue: speed)."""

    def test_small_config_losses_match_over_carried_windows(self):
        # The real small config (200 units, 10000 words, 20 x 20 windows), three SGD
        # updates with the state carried, compiled with XLA as in training.
        config = get_config("small")
        losses = []
        for fused_lstm in (True, False):
            keras.utils.set_random_seed(0)
            model = PTBModel(config, fused_lstm=fused_lstm).build_for(config.batch_size)
            train_steps = steps.make_train_steps(model, steps.make_optimizer(config))
            rng = np.random.default_rng(0)
            shape = (3, config.batch_size, config.num_steps)
            xs = rng.integers(0, config.vocab_size, shape).astype(np.int32)
            ys = rng.integers(0, config.vocab_size, shape).astype(np.int32)
            window_losses, _ = train_steps(xs, ys, model.zero_state(config.batch_size))
            losses.append(window_losses.numpy())
        fused, reference = losses
        # Untrained, the first window costs about 20 steps x log(10000) = 184.2 nats.
        self.assertAllClose(fused[0], 184.2, rtol=1e-3)
        self.assertAllClose(fused, reference, rtol=1e-5, atol=0)


if __name__ == "__main__":
    tf.test.main()
