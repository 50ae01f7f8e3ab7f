import dataclasses

import numpy as np
from absl.testing import absltest

from ptb_rnn import reader, truncation
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.spec import RunSpec

# 5 words; train has 20 ids.
CORPUS = reader.corpus_from_words(
    {"train": "a b c d <eos>".split() * 4, "valid": "a b c".split() * 4, "test": ["a", "b"]}
)


class IdentityTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.spec = RunSpec(get_config("test", vocab_size=5, batch_size=2))

    def test_how_the_numbers_are_computed_is_not_part_of_it(self):
        other = dataclasses.replace(
            self.spec,
            checkpoint_every_steps=7,
            windows_per_call=3,
            fused_lstm=False,
            deterministic=True,
        )
        self.assertEqual(other.identity(CORPUS), self.spec.identity(CORPUS))

    def test_what_decides_the_numbers_is(self):
        identity = self.spec.identity(CORPUS)
        self.assertEqual(
            sorted(identity), ["config", "corpus_sha256", "initializer", "seed", "truncation"]
        )
        for other in (
            dataclasses.replace(self.spec, seed=1),
            dataclasses.replace(self.spec, truncation=truncation.Truncation(carry_state=False)),
            dataclasses.replace(self.spec, config=get_config("test", vocab_size=6, batch_size=2)),
            dataclasses.replace(self.spec, softmax="fused"),
            dataclasses.replace(self.spec, precision="mixed_bfloat16"),
            dataclasses.replace(self.spec, initializer="shared"),
        ):
            self.assertNotEqual(other.identity(CORPUS), identity)
        longer = dataclasses.replace(CORPUS, test=np.array([0, 1, 0], np.int32))
        self.assertNotEqual(self.spec.identity(longer), identity)

    def test_the_run_length_is_not_part_of_it_unless_windows_ramp_over_the_run(self):
        def identity(max_max_epoch, schedule):
            config = get_config("test", vocab_size=5, batch_size=2, max_max_epoch=max_max_epoch)
            return RunSpec(config, truncation=schedule).identity(CORPUS)

        for schedule in (
            truncation.TBPTT,
            truncation.Truncation(schedule=(1, 2)),  # per epoch
            truncation.Truncation(schedule=(1, 2), ramp=True, ramp_epochs=1),
        ):
            self.assertEqual(identity(1, schedule), identity(2, schedule))
            self.assertNotIn("max_max_epoch", identity(1, schedule)["config"])
        whole_run = truncation.Truncation(schedule=(1, 2), ramp=True)
        self.assertNotEqual(identity(1, whole_run), identity(2, whole_run))
        self.assertEqual(identity(1, whole_run)["config"]["max_max_epoch"], 1)

    def test_softmax_precision_initializer_recorded_unless_dense_float32_shared(self):
        # Runs recorded before the three settings existed were dense, float32 and shared.
        older = dataclasses.replace(self.spec, initializer="shared").identity(CORPUS)
        self.assertEqual(sorted(older), ["config", "corpus_sha256", "seed", "truncation"])
        self.assertEqual(self.spec.identity(CORPUS)["initializer"], "independent")
        identity = dataclasses.replace(
            self.spec, softmax="fused", precision="mixed_bfloat16"
        ).identity(CORPUS)
        self.assertEqual((identity["softmax"], identity["precision"]), ("fused", "mixed_bfloat16"))


class CheckTest(absltest.TestCase):
    def test_a_run_that_fits_passes(self):
        RunSpec(get_config("test", vocab_size=5, batch_size=2)).check(CORPUS)

    def test_vocabulary_larger_than_the_softmax(self):
        with self.assertRaisesWithLiteralMatch(
            reader.DataError,
            "the training split has 5 distinct words but vocab_size is 4; pass --vocab_size=5.",
        ):
            RunSpec(get_config("test", vocab_size=4, batch_size=2)).check(CORPUS)

    def test_the_longest_window_of_a_schedule_must_fit(self):
        # 20 ids in 2 rows leave 9 columns with a next word.
        spec = RunSpec(
            get_config("test", vocab_size=5, batch_size=2),
            truncation.Truncation(schedule=(1, 10)),
        )
        with self.assertRaisesRegex(reader.DataError, "batch_size 2 x num_steps 10"):
            spec.check(CORPUS)

    def test_unknown_softmax(self):
        with self.assertRaisesWithLiteralMatch(
            ConfigError, "softmax must be one of dense, fused, got 'sparse'; pass --softmax=dense."
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=2), softmax="sparse").check(CORPUS)

    def test_unknown_precision(self):
        with self.assertRaisesWithLiteralMatch(
            ConfigError,
            "precision must be one of float32, mixed_bfloat16, got 'bf16'; "
            "pass --precision=float32.",
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=2), precision="bf16").check(CORPUS)

    def test_unknown_initializer(self):
        with self.assertRaisesWithLiteralMatch(
            ConfigError,
            "initializer must be one of independent, shared, got 'glorot'; "
            "pass --initializer=independent.",
        ):
            spec = RunSpec(get_config("test", vocab_size=5, batch_size=2), initializer="glorot")
            spec.check(CORPUS)

    def test_bfloat16_needs_the_fused_lstm(self):
        spec = RunSpec(
            get_config("test", vocab_size=5, batch_size=2),
            fused_lstm=False,
            precision="mixed_bfloat16",
        )
        with self.assertRaisesWithLiteralMatch(
            ConfigError, "precision mixed_bfloat16 needs the fused LSTM; drop --nofused_lstm."
        ):
            spec.check(CORPUS)

    def test_seed_out_of_range(self):
        with self.assertRaisesWithLiteralMatch(
            ConfigError, "seed must be in [0, 4294967295], got -1; pass --seed=0."
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=2), seed=-1).check(CORPUS)

    def test_a_one_word_test_split_is_refused_before_training(self):
        one_word = dataclasses.replace(CORPUS, test=np.array([0], np.int32))
        with self.assertRaisesWithLiteralMatch(
            reader.DataError,
            "test split: 1 word, needs at least 2 for the evaluation (one word to predict the "
            "next); give it more text.",
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=2)).check(one_word)

    def test_valid_must_fill_one_window_of_the_final_length(self):
        # 12 valid ids; 3 rows of 4 + 1 words need 15.
        with self.assertRaisesWithLiteralMatch(
            reader.DataError,
            "valid split: 12 words, needs at least 15 to fill one window of batch_size 3 x "
            "num_steps 4; give it more text, or decrease --batch_size or --num_steps.",
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=3, num_steps=4)).check(CORPUS)


class MemoryTest(absltest.TestCase):
    def test_the_small_config(self):
        # Weights: embedding and softmax 2 x 10000 x 200, softmax bias 10000, two LSTMs
        # of 4 x 200 x (200 + 200 + 1): 4,651,600, stored with their gradients in 4 bytes.
        # One window: 20 x 20 positions of 3 x 10000 softmax values and 10 x 2 x 200 LSTM
        # values, 4 bytes each.
        self.assertEqual(
            RunSpec(get_config("small")).memory_bytes(),
            {"weights": 4_651_600 * 8, "activations": 400 * (30_000 + 4_000) * 4},
        )


if __name__ == "__main__":
    absltest.main()
