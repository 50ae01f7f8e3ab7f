import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import evaluate, reader
from ptb_rnn.model import softmax
from ptb_rnn.training import epoch, steps


class EvaluateStreamTest(tf.test.TestCase):
    def test_long_windows_equal_one_word_steps(self):
        model = helpers.tiny_model(batch_size=1, seed=0)
        eval_steps = steps.make_eval_steps(model)
        ids = np.random.default_rng(0).integers(0, 20, 301)
        # The tutorial's protocol, literally: batch_size 1, num_steps 1, state carried.
        one_word, _ = epoch.run_epoch(eval_steps, model, reader.ptb_producer(ids, 1, 1))
        for window in (1, 7, 1000):
            self.assertAllClose(
                evaluate.evaluate_stream(eval_steps, model, ids, window), one_word, rtol=1e-5
            )

    def test_reset_every_k_equals_windows_from_zero_state(self):
        # A large init_scale, so that the state makes a visible difference.
        model = helpers.tiny_model(batch_size=1, seed=0, init_scale=1.0)
        ids = np.random.default_rng(0).integers(0, 20, 23)
        eval_steps = steps.make_eval_steps(model)
        # 22 predictions: windows of 5 from a zero state, then a tail of 2.
        costs = 0.0
        for start in range(0, 22, 5):
            x, y = ids[start : min(start + 5, 22)], ids[start + 1 : min(start + 6, 23)]
            logits, _ = model(x[np.newaxis], model.zero_state(1))
            costs += float(softmax.sequence_loss(logits, y[np.newaxis]))
        expected = np.exp(costs / 22)
        self.assertAllClose(
            evaluate.evaluate_stream(eval_steps, model, ids, reset_every=5), expected
        )
        self.assertNotAllClose(evaluate.evaluate_stream(eval_steps, model, ids), expected)


class ReportTest(tf.test.TestCase):
    def test_each_call_reports_the_predictions_done(self):
        model = helpers.tiny_model(batch_size=1, seed=0)
        ids = np.arange(23) % 20  # 22 predictions
        eval_steps = steps.make_eval_steps(model)
        reports = []
        evaluate.evaluate_stream(
            eval_steps, model, ids, window=10, report=lambda *r: reports.append(r)
        )
        self.assertEqual(reports, [(10, 22), (20, 22), (22, 22)])
        # Reset every 5: calls of window // 5 = 2 rows of 5 words, then the tail of 2.
        reports.clear()
        evaluate.evaluate_stream(
            eval_steps, model, ids, window=10, reset_every=5, report=lambda *r: reports.append(r)
        )
        self.assertEqual(reports, [(10, 22), (20, 22), (22, 22)])

    def test_run_epoch_reports_the_windows_done(self):
        model = helpers.tiny_model(batch_size=2, seed=0)
        eval_steps = steps.make_eval_steps(model)
        batches = reader.ptb_producer(np.arange(41) % 20, 2, 4)  # 20 columns: 4 windows of 4
        reports = []
        epoch.run_epoch(eval_steps, model, batches, report=lambda *r: reports.append(r))
        self.assertEqual(reports, [(4, 4)])  # one call: fewer windows than WINDOWS_PER_CALL


class TargetLogProbsTest(tf.test.TestCase):
    def test_one_per_prediction_and_their_mean_is_the_perplexity(self):
        model = helpers.tiny_model(batch_size=1, seed=0, init_scale=1.0)
        ids = np.random.default_rng(1).integers(0, 20, 23)
        eval_steps = steps.make_eval_steps(model)
        log_prob_steps = steps.make_log_prob_steps(model)
        for reset_every in (None, 5):
            log_probs = evaluate.target_log_probs(
                log_prob_steps, model, ids, window=7, reset_every=reset_every
            )
            self.assertEqual(log_probs.shape, (22,))
            self.assertAllClose(
                np.exp(-np.mean(log_probs)),
                evaluate.evaluate_stream(eval_steps, model, ids, reset_every=reset_every),
                rtol=1e-5,
            )

    def test_entry_t_predicts_word_t_plus_1_from_the_words_before(self):
        model = helpers.tiny_model(batch_size=1, seed=0, init_scale=1.0)
        ids = np.array([3, 1, 4, 1, 5, 9, 2, 6])
        log_probs = evaluate.target_log_probs(steps.make_log_prob_steps(model), model, ids)
        # Word 4 (ids[2]) predicted from [3, 1], by hand.
        logits, _ = model(ids[np.newaxis, :2], model.zero_state(1))
        expected = tf.nn.log_softmax(logits[0, -1])[4]
        self.assertAllClose(log_probs[1], expected, rtol=1e-5)


if __name__ == "__main__":
    tf.test.main()
