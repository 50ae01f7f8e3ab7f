import numpy as np
import tensorflow as tf
from absl.testing import absltest

from ptb_rnn import loop, reader, truncation
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.model import PTBModel


class ScheduleTest(absltest.TestCase):
    def test_parse(self):
        self.assertEqual(truncation.parse_schedule("1,2,5"), ((1, 2, 5), False))
        self.assertEqual(truncation.parse_schedule("ramp:1,20"), ((1, 20), True))
        with self.assertRaisesRegex(ConfigError, "cannot read truncation schedule 'a,b'"):
            truncation.parse_schedule("a,b")
        with self.assertRaisesRegex(ConfigError, "at least 1"):
            truncation.Truncation(schedule=(1, 0))

    def test_per_epoch_values_and_the_last_repeats(self):
        schedule = truncation.Truncation(schedule=(1, 2, 5))
        # batch_len 12: 11 columns have a next word.
        self.assertEqual(schedule.window_lengths(0, 4, 12, 20), [1] * 11)
        self.assertEqual(schedule.window_lengths(1, 4, 12, 20), [2] * 5)  # column 10 left out
        self.assertEqual(schedule.window_lengths(3, 4, 12, 20), [5, 5])
        self.assertEqual(truncation.TBPTT.window_lengths(0, 4, 12, 3), [3, 3, 3])

    def test_ramp_changes_inside_an_epoch(self):
        ramp = truncation.Truncation(schedule=(1, 2, 4), ramp=True)
        # One epoch of 13 usable columns in 3 stages of 13/3 columns: a window starting
        # at columns 0-4 has length 1, at 5-8 length 2, at 9 or later length 4.
        self.assertEqual(ramp.window_lengths(0, 1, 14, 20), [1, 1, 1, 1, 1, 2, 2, 4])

    def test_every_word_once_across_a_change(self):
        data = np.arange(3 * 40)
        batches = reader.ptb_producer(data, batch_size=3, num_steps=1)
        ramp = truncation.Truncation(schedule=(1, 3, 5), ramp=True)
        lengths = ramp.window_lengths(0, 1, batches.batch_len, 1)
        self.assertEqual(sorted(set(lengths)), [1, 3, 5])
        columns, start = [], 0
        for k in lengths:
            x, y = batches.window_at(start, k)
            np.testing.assert_array_equal(y, x + 1)  # targets are the next words
            columns.extend(x[0])
            start += k
        # Row 0 is words 0..39: every word read once, in order; only the tail is left out.
        np.testing.assert_array_equal(columns, np.arange(len(columns)))
        self.assertLess(39 - len(columns), lengths[-1])


class StatefulnessTest(tf.test.TestCase):
    def predictions_per_step(self, carry_state, ids):
        """Losses of consecutive one-step windows, through the loop's compiled steps."""
        tf.keras.utils.set_random_seed(0)
        model = PTBModel(get_config("small", hidden_size=6, vocab_size=20)).build_for(1)
        eval_steps = loop.make_eval_steps(model, carry_state)
        xs = np.array(ids[:-1]).reshape(-1, 1, 1)  # (num_windows, batch_size 1, num_steps 1)
        ys = np.array(ids[1:]).reshape(-1, 1, 1)
        losses, _ = eval_steps(xs, ys, model.zero_state(1))
        return losses.numpy()

    def test_stateless_one_step_ignores_earlier_words(self):
        a = self.predictions_per_step(False, [1, 2, 3, 4, 5])
        b = self.predictions_per_step(False, [9, 8, 7, 4, 5])
        self.assertEqual(a[-1], b[-1])  # predicting 5 from 4 alone
        self.assertNotEqual(a[0], b[0])

    def test_carried_state_remembers_earlier_words(self):
        a = self.predictions_per_step(True, [1, 2, 3, 4, 5])
        b = self.predictions_per_step(True, [9, 8, 7, 4, 5])
        self.assertNotEqual(a[-1], b[-1])

    def test_one_step_carry_cuts_the_gradient_at_each_step(self):
        model = PTBModel(get_config("small", hidden_size=6, vocab_size=20)).build_for(1)
        embedding = model.embedding.embeddings
        with tf.GradientTape() as tape:
            x1, y1, x2, y2 = (tf.constant([[word]]) for word in (1, 2, 2, 3))
            _, state = loop.window_loss(model, x1, y1, model.zero_state(1), training=True)
            loss, _ = loop.window_loss(model, x2, y2, state, training=True)
        grad = tf.convert_to_tensor(tape.gradient(loss, embedding))
        self.assertAllEqual(grad[1], tf.zeros([6]))  # word 1 reached the loss only via state
        self.assertGreater(float(tf.reduce_max(tf.abs(grad[2]))), 0.0)


class EvaluateResetTest(tf.test.TestCase):
    def test_reset_every_k_equals_windows_from_zero_state(self):
        # A large init_scale, so that the state makes a visible difference.
        config = get_config("small", hidden_size=6, vocab_size=20, init_scale=1.0)
        model = PTBModel(config).build_for(1)
        ids = np.random.default_rng(0).integers(0, 20, 23)
        eval_steps = loop.make_eval_steps(model)
        # 22 predictions: windows of 5 from a zero state, then a tail of 2.
        costs = 0.0
        for start in range(0, 22, 5):
            x, y = ids[start : min(start + 5, 22)], ids[start + 1 : min(start + 6, 23)]
            logits, _ = model(x[np.newaxis], model.zero_state(1))
            costs += float(loop.sequence_loss(logits, y[np.newaxis]))
        expected = np.exp(costs / 22)
        self.assertAllClose(loop.evaluate_stream(eval_steps, model, ids, reset_every=5), expected)
        self.assertNotAllClose(loop.evaluate_stream(eval_steps, model, ids), expected)


if __name__ == "__main__":
    absltest.main()
