"""Drawing words: temperature, top_k, greedy, seeds, the prime, and the text printed."""

import dataclasses
import os
import shutil
import tempfile

import helpers
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from ptb_rnn import reader
from ptb_rnn.config import ConfigError
from ptb_rnn.model import language_model
from ptb_rnn.model.sampling import (
    ROWS_PER_BATCH,
    Sampling,
    check_prime,
    draw,
    sample,
    samples,
    to_text,
)

P = np.array([0.5, 0.3, 0.2])


def frequencies(log_probs, sampling, num_draws=20000):
    """How often each word is drawn, in num_draws rows drawn at once (seed 0)."""
    rows = np.tile(log_probs, (num_draws, 1))
    ids = draw(rows, sampling, np.random.default_rng(0))
    return np.bincount(ids, minlength=len(log_probs)) / num_draws


class SamplingTest(parameterized.TestCase):
    @parameterized.named_parameters(
        (
            "negative_temperature",
            {"temperature": -1.0},
            "--temperature must be a number >= 0, got -1.0; pass e.g. --temperature=0.8 (1 "
            "draws from the model's distribution, 0 is greedy).",
        ),
        (
            "nan_temperature",
            {"temperature": float("nan")},
            "--temperature must be a number >= 0, got nan; pass e.g. --temperature=0.8 (1 "
            "draws from the model's distribution, 0 is greedy).",
        ),
        (
            "negative_top_k",
            {"top_k": -1},
            "--top_k must be >= 0, got -1; pass e.g. --top_k=40 (0 draws from all words, 1 is "
            "greedy).",
        ),
        (
            "no_words",
            {"num_words": 0},
            "--num_words must be at least 1, got 0; pass e.g. --num_words=3.",
        ),
        (
            "no_samples",
            {"num_samples": 0},
            "--num_samples must be at least 1, got 0; pass e.g. --num_samples=3.",
        ),
        ("negative_seed", {"seed": -2}, "--seed must be >= 0, got -2; pass e.g. --seed=1."),
    )
    def test_bad_values(self, values, expected):
        with self.assertRaises(ConfigError) as raised:
            Sampling(**values)
        self.assertEqual(str(raised.exception), expected)

    def test_greedy(self):
        self.assertFalse(Sampling().greedy)
        self.assertTrue(Sampling(temperature=0).greedy)
        self.assertTrue(Sampling(temperature=2.0, top_k=1).greedy)


class DrawTest(tf.test.TestCase):
    def test_greedy_takes_the_most_likely_word_of_each_row(self):
        log_probs = np.log([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
        for sampling in (Sampling(temperature=0), Sampling(top_k=1)):
            self.assertEqual(draw(log_probs, sampling, rng=None).tolist(), [1, 0])

    def test_a_tiny_temperature_is_greedy(self):
        # 1 / 1e-310 overflows: every scaled log-probability but the largest is -inf.
        log_probs = np.log([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
        ids = draw(log_probs, Sampling(temperature=1e-310), np.random.default_rng(0))
        self.assertEqual(ids.tolist(), [1, 0])

    def test_temperature_1_draws_from_the_distribution(self):
        self.assertAllClose(frequencies(np.log(P), Sampling()), P, atol=0.01)

    def test_temperature_sharpens(self):
        # p^(1/0.5) = p^2 = 0.25, 0.09, 0.04, renormalised.
        expected = P**2 / np.sum(P**2)  # 0.658, 0.237, 0.105
        self.assertAllClose(frequencies(np.log(P), Sampling(temperature=0.5)), expected, atol=0.01)

    def test_top_k_keeps_the_k_most_likely(self):
        # 0.5 and 0.3 renormalised: 0.625, 0.375; never the third.
        self.assertAllClose(
            frequencies(np.log(P), Sampling(top_k=2)), [0.625, 0.375, 0.0], atol=0.01
        )

    def test_a_word_of_probability_zero_is_never_drawn(self):
        log_probs = np.log([0.5, 0.0, 0.5, 0.0])
        self.assertEqual(frequencies(log_probs, Sampling())[[1, 3]].tolist(), [0.0, 0.0])

    def test_the_same_seed_draws_the_same(self):
        rows = np.tile(np.log(P), (50, 1))
        first = draw(rows, Sampling(), np.random.default_rng(3))
        self.assertAllEqual(draw(rows, Sampling(), np.random.default_rng(3)), first)
        self.assertNotAllEqual(draw(rows, Sampling(), np.random.default_rng(4)), first)


class PrimeTest(tf.test.TestCase):
    VOCABULARY = ["<eos>", "the", "<unk>", "company", "said"]

    def test_words_of_the_vocabulary_and_unk_are_fine(self):
        check_prime(["the", "<unk>", "said"], self.VOCABULARY)
        check_prime([], self.VOCABULARY)

    def test_words_outside_the_vocabulary_are_named(self):
        with self.assertRaises(reader.DataError) as raised:
            check_prime(["The", "company", "said", "IBM"], self.VOCABULARY)
        self.assertEqual(
            str(raised.exception),
            "the prime has words outside the model's vocabulary: 'The', 'IBM'; write them as "
            "the training text does (PTB: lower case, N for a number), or <unk> for a word it "
            "lacks.",
        )

    def test_a_prime_read_as_a_sentence_start_needs_eos(self):
        with self.assertRaises(reader.DataError) as raised:
            check_prime(["the"], ["the", "company"])
        self.assertEqual(
            str(raised.exception),
            "the model's vocabulary has no <eos> to start a sentence from; pass "
            "--noprime_starts_sentence to read the prime from the zero state.",
        )

    def test_a_prime_read_from_the_zero_state_needs_no_eos(self):
        check_prime(["the"], ["the", "company"], starts_sentence=False)

    def test_an_empty_prime_needs_eos(self):
        with self.assertRaises(reader.DataError) as raised:
            check_prime([], ["the", "company"])
        self.assertEqual(
            str(raised.exception),
            "the model's vocabulary has no <eos> to start a sentence from; give a --prime of "
            "words of its vocabulary.",
        )


class ToTextTest(tf.test.TestCase):
    def test_eos_is_a_line_break(self):
        self.assertEqual(to_text(["a", "b", "<eos>", "c", "<eos>", "d"]), "a b\nc\nd")
        self.assertEqual(to_text(["<eos>", "a", "<eos>"]), "\na\n")


class RowsSeen:
    """A language model that records how many rows each of its calls reads."""

    def __init__(self, model):
        self.model = model
        self.rows = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def log_probs(self, ids, state):
        self.rows.append(len(ids))
        return self.model.log_probs(ids, state)


class SampleTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, directory)
        workdir, _, _ = helpers.train_tiny(directory)
        cls.model = language_model.load(os.path.join(workdir, "model.keras"))

    def test_the_same_seed_draws_the_same_words(self):
        sampling = Sampling(num_words=30, seed=1)
        first = sample(self.model, ["the", "cat"], sampling)
        self.assertEqual(sample(self.model, ["the", "cat"], sampling), first)
        other_seed = Sampling(num_words=30, seed=2)
        self.assertNotEqual(sample(self.model, ["the", "cat"], other_seed), first)

    def test_samples_have_num_words_words_each(self):
        samples = sample(self.model, ["a"], Sampling(num_words=7, num_samples=3))
        self.assertEqual([len(words) for words in samples], [7, 7, 7])
        self.assertTrue(set(sum(samples, [])) <= set(self.model.vocabulary))

    def test_samples_come_a_batch_at_a_time(self):
        model = RowsSeen(self.model)
        drawn = samples(model, ["a"], Sampling(num_words=3, num_samples=ROWS_PER_BATCH + 1))
        self.assertLen(next(drawn), 3)
        # The prime once, then the first two drawn words fed back in, for the first batch.
        self.assertEqual(model.rows, [1, ROWS_PER_BATCH, ROWS_PER_BATCH])
        self.assertLen(list(drawn), ROWS_PER_BATCH)
        self.assertEqual(model.rows, [1, ROWS_PER_BATCH, ROWS_PER_BATCH, 1, 1])

    def greedy_words_read_from_zeros(self, read, num_words):
        """The greedy continuation of `read`, read from the zero state in one call."""
        words = []
        for _ in range(num_words):
            ids = self.model.words_to_ids(read + words)
            log_probs, _ = self.model.log_probs(ids[np.newaxis], self.model.zero_state(1))
            words.append(self.model.ids_to_words([np.argmax(log_probs[0, -1])])[0])
        return words

    def test_greedy_follows_the_models_most_likely_word_after_eos_and_the_prime(self):
        words = sample(self.model, ["the", "dog"], Sampling(num_words=12, temperature=0))[0]
        self.assertEqual(words, self.greedy_words_read_from_zeros(["<eos>", "the", "dog"], 12))
        self.assertIn("<eos>", words)  # sentences end: the model learnt their length

    def test_a_prime_that_does_not_start_a_sentence_is_read_from_the_zero_state(self):
        greedy = Sampling(num_words=12, temperature=0, prime_starts_sentence=False)
        words = sample(self.model, ["dog", "ate"], greedy)[0]
        self.assertEqual(words, self.greedy_words_read_from_zeros(["dog", "ate"], 12))

    def test_a_prime_is_read_after_eos(self):
        # Mid-sentence words: from the zero state the tiny model reads them as a
        # text's start; after <eos>, as a sentence that begins with them.
        greedy = Sampling(num_words=6, temperature=0)
        after_eos = sample(self.model, ["<eos>", "ate", "the"], greedy)
        self.assertEqual(sample(self.model, ["ate", "the"], greedy), after_eos)
        from_zeros = dataclasses.replace(greedy, prime_starts_sentence=False)
        self.assertNotEqual(sample(self.model, ["ate", "the"], from_zeros), after_eos)

    def test_top_k_1_is_greedy(self):
        greedy = sample(self.model, ["a", "man"], Sampling(num_words=12, temperature=0))
        top_1 = sample(self.model, ["a", "man"], Sampling(num_words=12, top_k=1, seed=5))
        self.assertEqual(top_1, greedy)

    def test_an_empty_prime_starts_a_sentence(self):
        greedy = Sampling(num_words=6, temperature=0)
        self.assertEqual(sample(self.model, [], greedy), sample(self.model, ["<eos>"], greedy))

    def test_a_prime_word_outside_the_vocabulary_is_refused(self):
        with self.assertRaisesRegex(reader.DataError, "^the prime has a word outside .*'zebra'"):
            sample(self.model, ["the", "zebra"], Sampling())


if __name__ == "__main__":
    tf.test.main()
