"""The grid's runs: trained once, read afterwards, divergence recorded, one pick per mode."""

import dataclasses
import json
import os

import helpers
from absl.testing import absltest

from ptb_rnn import files, reader
from ptb_rnn.config import get_config
from ptb_rnn.experiments import grid
from ptb_rnn.history import History
from ptb_rnn.spec import RunSpec


def finished(valid, schedule=()):
    """The History of a finished run whose validation perplexity (state as trained) is valid."""
    history = History(
        dataclasses.asdict(get_config("small")),
        {"carry_state": True, "schedule": list(schedule), "ramp": False},  # as in JSON
    )
    history.add_epoch(1.0, 500.0, valid, 3000.0, 1000, 60.0, 55.0)
    history.finish(
        {
            "carried": {"valid": valid, "test": valid - 10},
            "trained_state": {"valid": valid, "test": valid - 10},
        },
        61.0,
    )
    return history


class RunTest(absltest.TestCase):
    def test_num_steps_is_the_config_window_or_the_schedule(self):
        self.assertEqual(grid.Run("tbptt", 1.0, finished(400.0)).num_steps, "20")
        curriculum = grid.Run("curriculum", 1.0, finished(400.0, schedule=(1, 2, 5)))
        self.assertEqual(curriculum.num_steps, "1→2→5")

    def test_selection_perplexity_is_validation_with_the_state_as_trained(self):
        history = finished(400.0)
        history.eval["carried"]["valid"] = 999.0
        self.assertEqual(grid.Run("windows_reset", 1.0, history).selection_perplexity, 400.0)

    def test_a_run_without_history_diverged(self):
        self.assertTrue(grid.Run("tbptt", 1e6, None).diverged)
        self.assertFalse(grid.Run("tbptt", 1.0, finished(400.0)).diverged)


class BestRunsTest(absltest.TestCase):
    def test_lowest_validation_perplexity_per_mode_never_a_diverged_run(self):
        runs = [
            grid.Run("tbptt", 0.5, finished(500.0)),
            grid.Run("tbptt", 1.0, finished(400.0)),
            grid.Run("tbptt", 1e6, None),
            grid.Run("tbptt_k5", 0.5, finished(300.0)),
            grid.Run("tbptt_k5", 1.0, finished(350.0)),
        ]
        self.assertEqual(
            [(run.mode, run.learning_rate) for run in grid.best_runs(runs)],
            [("tbptt", 1.0), ("tbptt_k5", 0.5)],
        )

    def test_a_mode_whose_every_run_diverged_has_no_pick(self):
        runs = [grid.Run("tbptt", 2.0, None), grid.Run("tbptt_k5", 2.0, finished(300.0))]
        self.assertEqual([run.mode for run in grid.best_runs(runs)], ["tbptt_k5"])


class RunOnceTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path
        corpus_dir = helpers.random_corpus(os.path.join(self.workdir, "corpus"), 60, 10, 12)
        self.corpus = reader.load_corpus(corpus_dir)
        self.spec = RunSpec(get_config("test", vocab_size=13, batch_size=4))
        self.run_dir = os.path.join(self.workdir, "run")
        os.makedirs(self.run_dir)

    def test_a_finished_run_is_read_not_trained_again(self):
        history = finished(400.0)
        files.write_json(os.path.join(self.run_dir, files.RESULTS_FILE), history.to_json())
        self.assertEqual(grid.run_once(self.spec, self.corpus, self.run_dir), history)
        self.assertEqual(os.listdir(self.run_dir), [files.RESULTS_FILE])

    def test_results_without_a_truncation_take_the_specs(self):
        results = finished(400.0).to_json()
        del results["truncation"]
        files.write_json(os.path.join(self.run_dir, files.RESULTS_FILE), results)
        history = grid.run_once(self.spec, self.corpus, self.run_dir)
        self.assertEqual(
            history.truncation,
            {"carry_state": True, "schedule": [], "ramp": False, "ramp_epochs": None},
        )

    def test_a_recorded_divergence_is_not_trained_again(self):
        files.write_json(os.path.join(self.run_dir, grid.DIVERGED_FILE), {"message": "..."})
        self.assertIsNone(grid.run_once(self.spec, self.corpus, self.run_dir))
        self.assertEqual(os.listdir(self.run_dir), [grid.DIVERGED_FILE])

    def test_a_diverging_run_is_recorded_and_returns_none(self):
        spec = dataclasses.replace(
            self.spec, config=dataclasses.replace(self.spec.config, learning_rate=1e6)
        )
        self.assertIsNone(grid.run_once(spec, self.corpus, self.run_dir))
        with open(os.path.join(self.run_dir, grid.DIVERGED_FILE)) as f:
            message = json.load(f)["message"]
        self.assertStartsWith(message, "training diverged at epoch 1, step ")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, files.RESULTS_FILE)))


if __name__ == "__main__":
    absltest.main()
