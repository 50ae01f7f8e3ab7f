import math

import helpers
import keras
import numpy as np
import tensorflow as tf

from ptb_rnn.model import softmax
from ptb_rnn.model.network import PTBModel
from ptb_rnn.training import steps


def tiny_model(**model_options):
    """`helpers.tiny_model(batch_size=2, seed=0)` with PTBModel's options."""
    keras.utils.set_random_seed(0)
    return PTBModel(helpers.tiny_config(), **model_options).build_for(2)


class SequenceLossTest(tf.test.TestCase):
    def test_summed_over_steps_and_averaged_over_batch(self):
        # Uniform logits over 20 words: every step costs log(20), whatever the target.
        logits = tf.zeros([4, 3, 20])
        targets = tf.zeros([4, 3], tf.int32)
        self.assertAllClose(softmax.sequence_loss(logits, targets), 3 * math.log(20))


class WindowLossTest(tf.test.TestCase):
    def test_gradient_stops_at_the_window_edge(self):
        model = helpers.tiny_model(batch_size=1)
        # Words 1 and 2 appear only in window 1; window 2 reads words 3 and 4.
        x1, y1 = tf.constant([[1, 2]]), tf.constant([[2, 3]])
        x2, y2 = tf.constant([[3, 4]]), tf.constant([[4, 5]])
        embedding = model.embedding.embeddings
        with tf.GradientTape(persistent=True) as tape:
            _, state = steps.window_loss(model, x1, y1, model.zero_state(1), training=True)
            truncated, _ = steps.window_loss(model, x2, y2, state, training=True)
            # For contrast, full backprop through both windows (no stop at the edge).
            logits, _ = model(x2, state)
            untruncated = softmax.sequence_loss(logits, y2)
        rows_of_window_1 = tf.gather(
            tf.convert_to_tensor(tape.gradient(truncated, embedding)), [1, 2]
        )
        self.assertAllEqual(rows_of_window_1, tf.zeros_like(rows_of_window_1))
        full_rows = tf.gather(tf.convert_to_tensor(tape.gradient(untruncated, embedding)), [1, 2])
        self.assertGreater(float(tf.reduce_max(tf.abs(full_rows))), 0.0)

    def test_one_step_windows_cut_the_gradient_at_each_step(self):
        model = helpers.tiny_model(batch_size=1)
        embedding = model.embedding.embeddings
        with tf.GradientTape() as tape:
            x1, y1, x2, y2 = (tf.constant([[word]]) for word in (1, 2, 2, 3))
            _, state = steps.window_loss(model, x1, y1, model.zero_state(1), training=True)
            loss, _ = steps.window_loss(model, x2, y2, state, training=True)
        grad = tf.convert_to_tensor(tape.gradient(loss, embedding))
        self.assertAllEqual(grad[1], tf.zeros([6]))  # word 1 reached the loss only via state
        self.assertGreater(float(tf.reduce_max(tf.abs(grad[2]))), 0.0)


class SoftmaxLossTest(tf.test.TestCase):
    def window_loss_and_gradients(self, jit_compile, **model_options):
        model = tiny_model(**model_options)
        rng = np.random.default_rng(0)
        x, y = (tf.constant(rng.integers(0, 20, (2, 5)), tf.int32) for _ in range(2))

        @tf.function(jit_compile=jit_compile)
        def compute():
            with tf.GradientTape() as tape:
                loss, _ = steps.window_loss(model, x, y, model.zero_state(2), training=True)
            grads = tape.gradient(loss, model.trainable_variables)
            return loss, [tf.convert_to_tensor(g) for g in grads]

        return compute()

    def check_fused_equals_dense(self, jit_compile):
        # The tiny model (2 layers of 6 units, 20 words): every weight's gradient, from
        # the softmax layer's back through the LSTMs to the embedding.
        fused_loss, fused_grads = self.window_loss_and_gradients(jit_compile, fused_softmax=True)
        dense_loss, dense_grads = self.window_loss_and_gradients(jit_compile)
        self.assertAllClose(fused_loss, dense_loss, rtol=1e-6, atol=0)
        self.assertLen(fused_grads, 9)
        for got, want in zip(fused_grads, dense_grads):
            self.assertAllClose(got, want, rtol=1e-5, atol=1e-7)

    def test_fused_softmax_gives_the_dense_loss_and_gradients(self):
        self.check_fused_equals_dense(jit_compile=False)

    def test_fused_softmax_gives_the_dense_loss_and_gradients_under_xla(self):
        self.check_fused_equals_dense(jit_compile=True)


class OverWindowsTest(tf.test.TestCase):
    def test_one_trace_for_any_number_of_windows_and_one_per_window_shape(self):
        traces = []

        def window_fn(x, y, state):
            traces.append(tuple(x.shape))  # runs when traced, not when called
            return tf.cast(tf.reduce_sum(x) + tf.reduce_sum(y), tf.float32), state + 1.0

        steps_fn = steps.over_windows(window_fn, carry_state=True, jit_compile=False)
        state = tf.zeros([2])
        # 3 windows of 2 x 2 words, then 2: the losses are each window's sums of x and y.
        xs = np.arange(12, dtype=np.int32).reshape(3, 2, 2)
        losses, state = steps_fn(xs, xs, state)
        self.assertAllEqual(losses, [12, 44, 76])
        losses, state = steps_fn(xs[:2], xs[:2], state)
        self.assertAllEqual(losses, [12, 44])
        self.assertAllEqual(state, [5.0, 5.0])  # one added per window, carried across calls
        self.assertEqual(traces, [(2, 2)])
        steps_fn(xs.reshape(3, 1, 4), xs.reshape(3, 1, 4), state)  # a new window shape
        self.assertEqual(traces, [(2, 2), (1, 4)])


class EvalStepsTest(tf.test.TestCase):
    def losses_per_step(self, carry_state, ids):
        """Losses of consecutive one-step windows through the compiled eval steps."""
        model = helpers.tiny_model(batch_size=1, seed=0)
        eval_steps = steps.make_eval_steps(model, carry_state)
        xs = np.array(ids[:-1]).reshape(-1, 1, 1)  # (num_windows, batch_size 1, num_steps 1)
        ys = np.array(ids[1:]).reshape(-1, 1, 1)
        losses, _ = eval_steps(xs, ys, model.zero_state(1))
        return losses.numpy()

    def test_without_carry_only_the_current_word_counts(self):
        a = self.losses_per_step(False, [1, 2, 3, 4, 5])
        b = self.losses_per_step(False, [9, 8, 7, 4, 5])
        self.assertEqual(a[-1], b[-1])  # predicting 5 from 4 alone
        self.assertNotEqual(a[0], b[0])

    def test_carried_state_remembers_earlier_words(self):
        a = self.losses_per_step(True, [1, 2, 3, 4, 5])
        b = self.losses_per_step(True, [9, 8, 7, 4, 5])
        self.assertNotEqual(a[-1], b[-1])


class LogProbStepsTest(tf.test.TestCase):
    def test_minus_the_batch_mean_sum_is_the_window_loss(self):
        model = helpers.tiny_model(batch_size=3, seed=0)
        ids = np.random.default_rng(0).integers(0, 20, (3, 5)).astype(np.int32)
        x, y = ids[:, :4], ids[:, 1:]
        log_probs, _ = steps.make_log_prob_steps(model)(x, y, model.zero_state(3))
        loss, _ = steps.window_loss(model, x, y, model.zero_state(3), training=False)
        self.assertEqual(log_probs.shape, (3, 4))
        self.assertAllClose(-tf.reduce_sum(log_probs) / 3, loss, rtol=1e-6)


class TrainStepsTest(tf.test.TestCase):
    def test_one_update_is_sgd_with_the_clipped_gradient(self):
        config = helpers.tiny_config(max_grad_norm=0.1, learning_rate=2.0)
        model = helpers.tiny_model(batch_size=2, seed=0, max_grad_norm=0.1, learning_rate=2.0)
        x = np.array([[[1, 2, 3], [4, 5, 6]]], np.int32)  # one window, (1, 2, 3)
        y = x + 1
        with tf.GradientTape() as tape:
            loss, _ = steps.window_loss(model, x[0], y[0], model.zero_state(2), training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        clipped, _ = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in grads], 0.1)
        expected = [w - 2.0 * g for w, g in zip(model.trainable_variables, clipped)]
        optimizer = steps.make_optimizer(config)
        losses, _ = steps.make_train_steps(model, optimizer)(x, y, model.zero_state(2))
        self.assertAllClose(losses[0], loss, rtol=1e-6)
        for actual, wanted in zip(model.trainable_variables, expected):
            self.assertAllClose(actual, wanted, rtol=1e-5, atol=1e-7)

    def test_mixed_bfloat16_trains_like_float32_to_bfloat16_rounding(self):
        x = np.random.default_rng(0).integers(0, 20, (3, 2, 5)).astype(np.int32)  # 3 windows
        losses = {}
        for precision in ("float32", "mixed_bfloat16"):
            model = tiny_model(precision=precision)
            train_steps = steps.make_train_steps(model, steps.make_optimizer(model.config))
            losses[precision], _ = train_steps(x, (x + 1) % 20, model.zero_state(2))
        # bfloat16 keeps 8 bits of mantissa: a relative rounding of up to 2^-8.
        self.assertAllClose(losses["mixed_bfloat16"], losses["float32"], rtol=2**-8, atol=0)
        self.assertNotAllEqual(losses["mixed_bfloat16"], losses["float32"])


if __name__ == "__main__":
    tf.test.main()
