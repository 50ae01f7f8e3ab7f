"""Training time from speeds per window length, on runs whose windows are counted by hand."""

import dataclasses
import os
import re

from absl.testing import absltest

from ptb_rnn import files, truncation
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.experiments import speeds
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History

# Windows of 1 word: 2 words/s (state carried) and 4 words/s (reset); of 3 words: 3 words/s.
SPEEDS = {
    "machine": {"cpu_family": 25},
    "speeds": [
        {"num_steps": 1, "carry_state": True, "words_per_second": [1.0, 2.0, 5.0]},
        {"num_steps": 1, "carry_state": False, "words_per_second": [4.0]},
        {"num_steps": 3, "carry_state": True, "words_per_second": [3.0, 3.0]},
    ],
}
# Rows of 8 columns: 7 have a next word, so an epoch is 7 windows of 1 or 2 windows of 3.
BATCH_LEN = 8


def two_epochs(num_steps, schedule=(), carry_state=True, train_words=(12, 24)):
    """A finished 2-epoch History at batch size 2, with a curve point at 6 words."""
    config = get_config("test", batch_size=2, num_steps=num_steps, max_max_epoch=2)
    history = History(
        dataclasses.asdict(config),
        {"carry_state": carry_state, "schedule": list(schedule), "ramp": False},
    )
    for epoch, words in enumerate(train_words):
        history.add_epoch(1.0, 50.0, 40.0, 999.0, words, 100.0 * (epoch + 1), 90.0 * (epoch + 1))
    history.curve = [{"epoch": 1, "step": 1, "words": 6, "train_seconds": 77.0}]
    perplexities = {"valid": 1.0, "test": 1.0}
    history.finish({"carried": perplexities, "trained_state": perplexities}, 1.0)
    return history


class WindowKindsTest(absltest.TestCase):
    def test_each_mode_trains_with_its_window_lengths(self):
        base = RunSpec(get_config("small"))
        expected = {
            "tbptt": [(20, True)],
            "stateless_one_step": [(1, False)],
            "windows_reset": [(20, False)],
            "curriculum": [(1, True), (2, True), (5, True), (10, True), (20, True)],
        }
        for name, kinds in expected.items():
            mode = truncation.get_mode(name)
            spec = dataclasses.replace(
                base, config=mode.apply(base.config), truncation=mode.truncation
            )
            self.assertEqual(speeds.window_kinds(spec), kinds, name)


class ReadTest(absltest.TestCase):
    def test_no_file_no_speeds(self):
        path = os.path.join(self.create_tempdir().full_path, speeds.SPEEDS_FILE)
        self.assertIsNone(speeds.read(path))

    def test_a_speeds_file_is_read_back(self):
        path = os.path.join(self.create_tempdir().full_path, speeds.SPEEDS_FILE)
        files.write_json(path, SPEEDS)
        self.assertEqual(speeds.read(path), SPEEDS)

    def test_a_damaged_or_foreign_file_is_refused(self):
        directory = self.create_tempdir().full_path
        advice = (
            "measure them again: python -m ptb_rnn.experiments --full --notrain --measure_speeds."
        )
        cases = {
            '{"speeds": [': r"is damaged \(.*\); ",
            '{"speeds": [{"num_steps": 1}], "machine": {}}': "holds no training speeds; ",
            '{"speeds": []}': "holds no training speeds; ",
            "[1, 2]": "holds no training speeds; ",
        }
        for text, problem in cases.items():
            with self.subTest(text):
                path = os.path.join(directory, speeds.SPEEDS_FILE)
                files.write_text(path, text)
                with self.assertRaisesRegex(
                    ConfigError, f"^{re.escape(path)} {problem}{re.escape(advice)}$"
                ):
                    speeds.read(path)


class RetimeTest(absltest.TestCase):
    def test_speed_of_a_window_kind_is_the_median_of_its_rounds(self):
        self.assertEqual(
            speeds.speed_table(SPEEDS), {(1, True): 2.0, (1, False): 4.0, (3, True): 3.0}
        )

    def test_fixed_windows_take_their_words_over_their_speed(self):
        # 2 windows of 2 x 3 words an epoch at 3 words/s: 4 s an epoch; 6 words: 2 s.
        history = speeds.retime(two_epochs(3), SPEEDS, BATCH_LEN)
        self.assertEqual(history.train_seconds, [4.0, 8.0])
        self.assertEqual(history.curve[0]["train_seconds"], 2.0)
        self.assertEqual(history.train_words_per_second, [3.0, 3.0])
        self.assertEqual(history.words_per_second, 3.0)
        # The rest stays as measured.
        self.assertEqual(history.elapsed_seconds, [100.0, 200.0])
        self.assertEqual(history.curve[0]["words"], 6)

    def test_a_schedule_times_each_epoch_at_its_window_length(self):
        # Epoch 1: 7 windows of 2 x 1 words at 2 words/s, 14 words in 7 s. Epoch 2: 2
        # windows of 2 x 3 words at 3 words/s, 12 words in 4 s. 6 words: 3 s.
        history = two_epochs(3, schedule=(1, 3), train_words=(14, 26))
        history = speeds.retime(history, SPEEDS, BATCH_LEN)
        self.assertEqual(history.train_seconds, [7.0, 11.0])
        self.assertEqual(history.curve[0]["train_seconds"], 3.0)
        self.assertEqual(history.train_words_per_second, [2.0, 3.0])
        self.assertEqual(history.words_per_second, 2.5)

    def test_the_state_handling_picks_the_speed(self):
        # 7 windows of 2 x 1 words an epoch at 4 words/s (reset), not 2 (carried).
        history = two_epochs(1, carry_state=False, train_words=(14, 28))
        history = speeds.retime(history, SPEEDS, BATCH_LEN)
        self.assertEqual(history.train_seconds, [3.5, 7.0])

    def test_a_window_length_not_measured_is_refused(self):
        with self.assertRaisesRegex(
            ConfigError,
            r"^speeds.json has no speed for windows of \[3\] words \(state carried: False\); "
            "measure them: python -m ptb_rnn.experiments --full --notrain --measure_speeds.$",
        ):
            speeds.retime(two_epochs(3, carry_state=False), SPEEDS, BATCH_LEN)

    def test_a_run_from_another_corpus_is_refused(self):
        # 9 columns: 8 have a next word, 8 windows of 2 x 1 words, 16 words, not 14.
        with self.assertRaisesRegex(
            ConfigError,
            r"^a run trained on 28 words, but its windows over 9 columns make 32; time it "
            "with the corpus it trained on.$",
        ):
            speeds.retime(two_epochs(1, train_words=(14, 28)), SPEEDS, 9)


if __name__ == "__main__":
    absltest.main()
