import json
import math
import os
import unittest

import helpers
import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import loop, reader
from ptb_rnn.config import get_config
from ptb_rnn.model import PTBModel


def tiny_model(batch_size=2, **overrides):
    config = get_config("small", hidden_size=6, vocab_size=20, **overrides)
    return PTBModel(config).build_for(batch_size)


class SequenceLossTest(tf.test.TestCase):
    def test_summed_over_steps_and_averaged_over_batch(self):
        # Uniform logits over 20 words: every step costs log(20), whatever the target.
        logits = tf.zeros([4, 3, 20])
        targets = tf.zeros([4, 3], tf.int32)
        self.assertAllClose(loop.sequence_loss(logits, targets), 3 * math.log(20))


class TruncationTest(tf.test.TestCase):
    def test_gradient_stops_at_the_window_edge(self):
        model = tiny_model(batch_size=1)
        # Words 1 and 2 appear only in window 1; window 2 reads words 3 and 4.
        x1, y1 = tf.constant([[1, 2]]), tf.constant([[2, 3]])
        x2, y2 = tf.constant([[3, 4]]), tf.constant([[4, 5]])
        embedding = model.embedding.embeddings
        with tf.GradientTape(persistent=True) as tape:
            _, state = loop.window_loss(model, x1, y1, model.zero_state(1), training=True)
            truncated, _ = loop.window_loss(model, x2, y2, state, training=True)
            # For contrast, full backprop through both windows (no stop at the edge).
            logits, _ = model(x2, state)
            untruncated = loop.sequence_loss(logits, y2)
        rows_of_window_1 = tf.gather(
            tf.convert_to_tensor(tape.gradient(truncated, embedding)), [1, 2]
        )
        self.assertAllEqual(rows_of_window_1, tf.zeros_like(rows_of_window_1))
        full_rows = tf.gather(tf.convert_to_tensor(tape.gradient(untruncated, embedding)), [1, 2])
        self.assertGreater(float(tf.reduce_max(tf.abs(full_rows))), 0.0)

    def test_several_windows_per_call_equal_one_window_per_call(self):
        batches = reader.ptb_producer(np.arange(61) % 20, batch_size=3, num_steps=4)
        weights = []
        for windows_per_call in (1, batches.epoch_size):
            keras.utils.set_random_seed(1)
            model = tiny_model(batch_size=3)
            train_steps = loop.make_train_steps(model, loop.make_optimizer(model.config))
            loop.run_epoch(train_steps, model, batches, windows_per_call=windows_per_call)
            weights.append([w.numpy() for w in model.weights])
        for one, many in zip(*weights):
            self.assertAllClose(one, many, rtol=1e-5, atol=1e-6)


class EvaluateStreamTest(tf.test.TestCase):
    def test_long_windows_equal_one_word_steps(self):
        model = tiny_model(batch_size=1)
        eval_steps = loop.make_eval_steps(model)
        ids = np.random.default_rng(0).integers(0, 20, 301)
        # The tutorial's protocol, literally: batch_size 1, num_steps 1, state carried.
        one_word, _ = loop.run_epoch(eval_steps, model, reader.ptb_producer(ids, 1, 1))
        for window in (1, 7, 1000):
            self.assertAllClose(
                loop.evaluate_stream(eval_steps, model, ids, window), one_word, rtol=1e-5
            )


class TrainTest(tf.test.TestCase):
    def test_learning_rate_follows_the_schedule(self):
        workdir = self.create_tempdir().full_path
        corpus_dir = helpers.random_corpus(os.path.join(workdir, "corpus"), 60, 10, 12)
        config = get_config("test", vocab_size=13, max_epoch=2, max_max_epoch=4, batch_size=4)
        results = loop.train_and_evaluate(config, reader.load_corpus(corpus_dir), workdir)
        self.assertEqual(results["learning_rate"], [1.0, 1.0, 0.5, 0.25])
        with open(os.path.join(workdir, "results.json")) as f:
            self.assertEqual(json.load(f)["test_perplexity"], results["test_perplexity"])
        self.assertLen(results["valid_perplexity"], 4)

    @unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
    def test_one_epoch_of_test_config_on_ptb(self):
        results = loop.train_and_evaluate(
            get_config("test"), reader.load_corpus(helpers.PTB_DIR), self.create_tempdir().full_path
        )
        for name in ("train_perplexity", "valid_perplexity"):
            self.assertTrue(np.isfinite(results[name][0]))
        # A uniform guess over 10000 words has perplexity 10000; 2 units learn word frequencies.
        self.assertLess(results["test_perplexity"], 1000)


if __name__ == "__main__":
    tf.test.main()
