"""Any text scored by a saved model: the training run's own test perplexity, word by word."""

import json
import os
import shutil
import tempfile

import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.evaluate import text
from ptb_rnn.model import language_model


class ScoreTextTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, directory)
        # "zebra" is outside the vocabulary: read as <unk>, and counted.
        workdir, corpus_dir, cls.history = helpers.train_tiny(directory, " the zebra sat on \n")
        cls.model = language_model.load(os.path.join(workdir, "model.keras"))
        cls.test_words = reader.read_words(os.path.join(corpus_dir, "ptb.test.txt"))

    def test_the_test_split_scores_the_runs_test_perplexity(self):
        score = text.score_text(self.model, self.test_words)
        self.assertAlmostEqual(score.perplexity, self.history.test_perplexity, delta=1e-4)
        self.assertIsNone(score.log_probs)

    def test_unknown_words_are_unk_and_counted(self):
        score = text.score_text(self.model, self.test_words)
        self.assertEqual(score.unknown_count, 1)
        self.assertEqual(np.flatnonzero(score.unknown).tolist(), [self.test_words.index("zebra")])
        as_unk = ["<unk>" if word == "zebra" else word for word in self.test_words]
        self.assertEqual(text.score_text(self.model, as_unk).perplexity, score.perplexity)

    def test_per_word_log_probs_sum_to_the_total(self):
        score = text.score_text(self.model, self.test_words, per_word=True)
        self.assertEqual(score.log_probs.shape, (len(self.test_words) - 1,))
        self.assertAllClose(score.log_probs.sum(), score.log_prob, rtol=1e-5)
        self.assertAllClose(np.exp(-score.log_probs.mean()), score.perplexity, rtol=1e-5)

    def test_the_first_word_is_only_read(self):
        # Two words: one prediction, p("cat" | "the").
        score = text.score_text(self.model, ["the", "cat"], per_word=True)
        ids = self.model.words_to_ids(["the", "cat"])
        log_probs, _ = self.model.log_probs(ids[np.newaxis, :1], self.model.zero_state(1))
        self.assertAllClose(score.log_probs, [log_probs[0, 0, ids[1]]], rtol=1e-5)
        self.assertAllClose(score.perplexity, np.exp(-log_probs[0, 0, ids[1]]), rtol=1e-5)

    def test_one_word_is_too_short(self):
        with self.assertRaises(reader.DataError) as raised:
            text.score_text(self.model, ["the"])
        self.assertEqual(
            str(raised.exception),
            "the text has 1 word; a perplexity needs at least 2 (the first word is only "
            "read); give a longer text.",
        )


class FormatTest(tf.test.TestCase):
    # Three words, the last unknown; the two predicted have log-probabilities -1.5 and -2.5,
    # so the perplexity is exp(2).
    SCORE = text.TextScore(
        words=["a", "b", "zebra"],
        unknown=np.array([False, False, True]),
        perplexity=float(np.exp(2.0)),
        log_probs=np.array([-1.5, -2.5], np.float32),
    )

    def test_per_word_jsonl(self):
        lines = [json.loads(line) for line in text.per_word_jsonl(self.SCORE).splitlines()]
        self.assertEqual(
            lines,
            [{"word": "b", "log_prob": -1.5}, {"word": "zebra", "log_prob": -2.5, "unk": True}],
        )

    def test_summary(self):
        self.assertEqual(
            text.summary(self.SCORE),
            "words: 3 (2 predicted: all but the first)\n"
            "outside the vocabulary: 1 (read as <unk>)\n"
            "log-probability: -4.0000 nats\n"
            "perplexity: 7.3891",
        )


if __name__ == "__main__":
    tf.test.main()
