"""The layout study's plan: its settings and runs, the learning-rate grid's growth, the speeds."""

import dataclasses
import os
import re

import helpers
from absl.testing import absltest

from ptb_rnn import files
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.experiments import layout
from ptb_rnn.experiments.layout import Setting
from ptb_rnn.experiments.results import Run
from ptb_rnn.spec import RunSpec
from ptb_rnn.training.history import History, machine_description
from ptb_rnn.truncation import TBPTT


class SweepsTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.by_sweep = layout.sweeps(get_config("small"), [1, 4, 20], [5, 20])

    def test_batch_sizes_at_the_configs_num_steps_window_lengths_at_its_batch_size(self):
        self.assertEqual(
            self.by_sweep,
            {
                "batch_size": [Setting(1, 20), Setting(4, 20), Setting(20, 20)],
                "num_steps": [Setting(20, 5), Setting(20, 20)],
            },
        )

    def test_the_configs_own_setting_is_in_both_sweeps_and_trained_once(self):
        self.assertEqual(
            layout.unique_settings(self.by_sweep),
            [Setting(1, 20), Setting(4, 20), Setting(20, 20), Setting(20, 5)],
        )


class LearningPointTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.base = RunSpec(get_config("small"), seed=3, curve_points_per_epoch=4)
        self.point = layout.learning_point(self.base, Setting(64, 20), 0.25, 1, "out/layout")

    def test_one_work_directory_per_setting_and_learning_rate(self):
        self.assertEqual(self.point.workdir, "out/layout/batch_64_steps_20/lr_0.25")
        self.assertEqual(self.point.mode, "batch_64_steps_20")

    def test_the_settings_layout_at_a_constant_learning_rate(self):
        self.assertEqual(
            self.point.spec.config,
            get_config(
                "small",
                batch_size=64,
                num_steps=20,
                learning_rate=0.25,
                max_epoch=1,
                max_max_epoch=1,
            ),
        )
        spec = self.point.spec
        self.assertEqual((spec.truncation, spec.seed, spec.curve_points_per_epoch), (TBPTT, 3, 4))

    def test_compiled_calls_of_at_most_5000_words(self):
        # 64 x 20 = 1280 words a window: 3 windows a call. 1 x 20 = 20: 250, capped at 50.
        self.assertEqual(self.point.spec.windows_per_call, 3)
        self.assertEqual(layout.setting_spec(self.base, Setting(1, 20)).windows_per_call, 50)


class NextLearningRateTest(absltest.TestCase):
    def test_a_pick_inside_the_grid_ends_it(self):
        self.assertIsNone(layout.next_learning_rate({0.5: 400.0, 1.0: 380.0, 2.0: 390.0}))

    def test_a_pick_at_the_lowest_rate_halves_it(self):
        self.assertEqual(layout.next_learning_rate({0.5: 380.0, 1.0: 400.0, 2.0: 450.0}), 0.25)

    def test_a_pick_at_the_highest_rate_doubles_it(self):
        self.assertEqual(layout.next_learning_rate({0.5: 450.0, 1.0: 400.0, 2.0: 380.0}), 4.0)

    def test_a_diverged_run_counts_as_the_worst(self):
        self.assertIsNone(layout.next_learning_rate({0.5: 420.0, 1.0: 400.0, 2.0: None}))

    def test_every_run_diverged_goes_down(self):
        self.assertEqual(layout.next_learning_rate({0.5: None, 1.0: None}), 0.25)

    def test_a_grid_of_one_rate_goes_down_first(self):
        self.assertEqual(layout.next_learning_rate({1.0: 400.0}), 0.5)


def outcomes(perplexities: dict):
    """A run_at for `layout.search` that records the rates asked for, and returns a
    finished run at perplexities[rate] (None: diverged)."""
    asked = []

    def run_at(learning_rate):
        asked.append(learning_rate)
        valid = perplexities[learning_rate]
        history = None if valid is None else helpers.finished_history(valid)
        return Run("batch_1_steps_20", learning_rate, history)

    return run_at, asked


class SearchTest(absltest.TestCase):
    def test_grows_upwards_until_a_divergence_closes_the_grid(self):
        # 2 is best of the start (the top edge): 4, better still: 8, diverged: 4 is inside.
        run_at, asked = outcomes({0.5: 300.0, 1.0: 290.0, 2.0: 280.0, 4.0: 270.0, 8.0: None})
        search = layout.search(Setting(1, 20), [0.5, 1.0, 2.0], run_at)
        self.assertEqual(asked, [0.5, 1.0, 2.0, 4.0, 8.0])
        self.assertEqual((search.best.learning_rate, search.position), (4.0, "inside"))
        self.assertEqual([run.learning_rate for run in search.runs], [0.5, 1.0, 2.0, 4.0, 8.0])

    def test_grows_downwards_until_a_rate_is_worse(self):
        run_at, asked = outcomes({0.125: 395.0, 0.25: 390.0, 0.5: 400.0, 1.0: 450.0, 2.0: 500.0})
        search = layout.search(Setting(1, 20), [0.5, 1.0, 2.0], run_at)
        self.assertEqual(asked, [0.5, 1.0, 2.0, 0.25, 0.125])
        self.assertEqual((search.best.learning_rate, search.position), (0.25, "inside"))
        self.assertEqual([run.learning_rate for run in search.runs], [0.125, 0.25, 0.5, 1.0, 2.0])

    def test_stops_at_the_edge_after_four_rates_added(self):
        rates = [0.5, 1.0, 2.0, 0.25, 0.125, 0.0625, 0.03125]
        run_at, asked = outcomes({lr: 100.0 + lr for lr in rates})
        search = layout.search(Setting(1, 20), [0.5, 1.0, 2.0], run_at)
        self.assertEqual(asked, rates)
        self.assertEqual((search.best.learning_rate, search.position), (0.03125, "lowest edge"))

    def test_a_run_not_ended_stops_the_search_unfinished(self):
        def run_at(learning_rate):
            history = helpers.finished_history(400.0 / learning_rate)
            return None if learning_rate == 2.0 else Run("batch_1_steps_20", learning_rate, history)

        search = layout.search(Setting(1, 20), [0.5, 1.0, 2.0], run_at)
        self.assertFalse(search.finished)
        self.assertEqual((search.best.learning_rate, search.position), (1.0, "highest edge"))


# A setting of batch size 2 and windows of 3 words, at 3 words/s (the median of 3 rounds).
SPEEDS = {
    "machine": {"cpu_family": 25},
    "matmul_gflops": 100.0,
    "speeds": [
        {"batch_size": 2, "num_steps": 3, "flops_per_word": 1e6, "words_per_second": [3, 6, 1]},
    ],
}


def two_epochs(batch_size=2):
    """A finished 2-epoch History of 2 windows of batch_size x 3 words an epoch (rows of 8
    columns), with a curve point at 6 words."""
    config = get_config("test", batch_size=batch_size, num_steps=3, max_max_epoch=2)
    history = History(dataclasses.asdict(config), dataclasses.asdict(TBPTT))
    for epoch in range(2):
        words = (epoch + 1) * 2 * batch_size * 3
        history.add_epoch(1.0, 50.0, 40.0, 999.0, words, 100.0 * (epoch + 1), 90.0 * (epoch + 1))
    history.curve = [{"epoch": 1, "step": 1, "words": 6, "train_seconds": 77.0}]
    perplexities = {"valid": 1.0, "test": 1.0}
    history.finish({"carried": perplexities, "trained_state": perplexities}, 1.0)
    return history


class SpeedsTest(absltest.TestCase):
    def test_a_setting_is_timed_at_the_median_of_its_rounds(self):
        # 2 windows of 2 x 3 words an epoch at 3 words/s: 4 s an epoch; 6 words: 2 s.
        history = layout.retime(two_epochs(), SPEEDS, 8)
        self.assertEqual(history.train_seconds, [4.0, 8.0])
        self.assertEqual(history.curve[0]["train_seconds"], 2.0)

    def test_a_setting_not_measured_is_refused(self):
        with self.assertRaisesRegex(
            ConfigError,
            "^the layout's speeds have none for batch_size 4 x num_steps 3; measure them: "
            + re.escape(layout.MEASURE_AGAIN)
            + ".$",
        ):
            layout.retime(two_epochs(batch_size=4), SPEEDS, 8)

    def test_no_file_no_speeds_and_a_file_is_read_back(self):
        path = os.path.join(self.create_tempdir().full_path, "speeds.json")
        self.assertIsNone(layout.read_speeds(path))
        files.write_json(path, SPEEDS)
        self.assertEqual(layout.read_speeds(path), SPEEDS)

    def test_the_full_scale_speeds_are_refused(self):
        path = os.path.join(self.create_tempdir().full_path, "speeds.json")
        row = {"num_steps": 1, "carry_state": True, "words_per_second": [1.0]}
        files.write_json(path, {"machine": {}, "speeds": [row]})
        with self.assertRaisesRegex(
            ConfigError,
            f"^{re.escape(path)} holds no layout speeds; measure them again: "
            + re.escape(layout.MEASURE_AGAIN)
            + ".$",
        ):
            layout.read_speeds(path)

    def test_a_real_timing_of_two_settings(self):
        base = RunSpec(get_config("test", vocab_size=31))
        measured = layout.measure_speeds(base, [Setting(1, 2), Setting(4, 2)], rounds=2)
        self.assertEqual(sorted(measured), ["machine", "matmul_gflops", "speeds"])
        self.assertEqual(measured["machine"], machine_description())
        self.assertGreater(measured["matmul_gflops"], 0)
        # Per word, one layer of H = 2 units: 48 H^2 in the LSTM's matmuls forward and
        # backward, and 6 H V = 6 x 2 x 31 in the softmax layer's: 192 + 372.
        rows = measured["speeds"]
        self.assertEqual(
            [(row["batch_size"], row["num_steps"], row["flops_per_word"]) for row in rows],
            [(1, 2, 564), (4, 2, 564)],
        )
        for row in measured["speeds"]:
            self.assertLen(row["words_per_second"], 2)
            self.assertTrue(all(rate > 0 for rate in row["words_per_second"]))


if __name__ == "__main__":
    absltest.main()
