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
        self.assertEqual(sorted(identity), ["config", "corpus_sha256", "seed", "truncation"])
        for other in (
            dataclasses.replace(self.spec, seed=1),
            dataclasses.replace(self.spec, truncation=truncation.Truncation(carry_state=False)),
            dataclasses.replace(self.spec, config=get_config("test", vocab_size=6, batch_size=2)),
        ):
            self.assertNotEqual(other.identity(CORPUS), identity)
        longer = dataclasses.replace(CORPUS, test=np.array([0, 1, 0], np.int32))
        self.assertNotEqual(self.spec.identity(longer), identity)


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

    def test_seed_out_of_range(self):
        with self.assertRaisesWithLiteralMatch(
            ConfigError, "seed must be in [0, 4294967295], got -1; pass --seed=0."
        ):
            RunSpec(get_config("test", vocab_size=5, batch_size=2), seed=-1).check(CORPUS)


if __name__ == "__main__":
    absltest.main()
