"""How runs ended: read from their work directories, one pick per mode."""

import dataclasses
import os

import helpers
from absl.testing import absltest

from ptb_rnn import files, reader
from ptb_rnn.config import get_config
from ptb_rnn.experiments import results
from ptb_rnn.spec import RunSpec


class RunTest(absltest.TestCase):
    def test_num_steps_is_the_config_window_or_the_schedule(self):
        self.assertEqual(results.Run("tbptt", 1.0, helpers.finished_history(400.0)).num_steps, "20")
        curriculum = results.Run(
            "curriculum", 1.0, helpers.finished_history(400.0, schedule=(1, 2, 5))
        )
        self.assertEqual(curriculum.num_steps, "1→2→5")

    def test_selection_perplexity_is_validation_with_the_state_as_trained(self):
        history = helpers.finished_history(400.0)
        history.eval["carried"]["valid"] = 999.0
        self.assertEqual(results.Run("windows_reset", 1.0, history).selection_perplexity, 400.0)

    def test_a_run_without_history_diverged(self):
        self.assertTrue(results.Run("tbptt", 1e6, None).diverged)
        self.assertFalse(results.Run("tbptt", 1.0, helpers.finished_history(400.0)).diverged)


class BestRunsTest(absltest.TestCase):
    def test_lowest_validation_perplexity_per_mode_never_a_diverged_run(self):
        runs = [
            results.Run("tbptt", 0.5, helpers.finished_history(500.0)),
            results.Run("tbptt", 1.0, helpers.finished_history(400.0)),
            results.Run("tbptt", 1e6, None),
            results.Run("tbptt_k5", 0.5, helpers.finished_history(300.0)),
            results.Run("tbptt_k5", 1.0, helpers.finished_history(350.0)),
        ]
        self.assertEqual(
            [(run.mode, run.learning_rate) for run in results.best_runs(runs)],
            [("tbptt", 1.0), ("tbptt_k5", 0.5)],
        )

    def test_a_mode_whose_every_run_diverged_has_no_pick(self):
        runs = [
            results.Run("tbptt", 2.0, None),
            results.Run("tbptt_k5", 2.0, helpers.finished_history(300.0)),
        ]
        self.assertEqual([run.mode for run in results.best_runs(runs)], ["tbptt_k5"])


class ReadGridTest(absltest.TestCase):
    def test_finished_and_diverged_runs_by_mode_and_learning_rate(self):
        runs_dir = self.create_tempdir().full_path
        for name, value in (("lr_2", 300.0), ("lr_0.5", 500.0)):
            files.write_json(
                os.path.join(runs_dir, "tbptt", name, files.RESULTS_FILE),
                helpers.finished_history(value).to_json(),
            )
        files.write_json(os.path.join(runs_dir, "tbptt", "lr_8", results.DIVERGED_FILE), {})
        os.makedirs(os.path.join(runs_dir, "tbptt", "lr_16"))  # never ended: left out
        runs = results.read_grid(runs_dir, ["tbptt", "tbptt_k5"])
        self.assertEqual(
            [(run.mode, run.learning_rate, run.diverged) for run in runs],
            [("tbptt", 0.5, False), ("tbptt", 2.0, False), ("tbptt", 8.0, True)],
        )
        self.assertEqual(runs[1].selection_perplexity, 300.0)


class CheckSameRunTest(absltest.TestCase):
    """A run's work directory is reused only by the run it holds."""

    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path
        words = "a b c a b c".split()
        self.corpus = reader.corpus_from_words({"train": words, "valid": words, "test": words})
        self.spec = RunSpec(get_config("test"))

    def finish(self, identity, spec=None):
        """A finished run's results.json recording identity (and spec's config and
        truncation, if given, as older records do without an identity)."""
        history = helpers.finished_history(400.0)
        history.identity = identity
        if spec is not None:
            history.config = dataclasses.asdict(spec.config)
            history.truncation = dataclasses.asdict(spec.truncation)
        files.write_json(os.path.join(self.workdir, files.RESULTS_FILE), history.to_json())

    def test_the_same_run_is_reused(self):
        self.finish(self.spec.identity(self.corpus))
        results.check_same_run(self.spec, self.corpus, self.workdir)

    def test_another_seed_is_refused_naming_it_and_the_directory(self):
        self.finish(RunSpec(get_config("test"), seed=3).identity(self.corpus))
        with self.assertRaisesRegex(
            files.WorkdirError,
            f"^{self.workdir} holds the results.json of a different run \\(seed 3 there, 0 "
            "here\\); delete that directory to train this run there, or choose another "
            "--output_dir.$",
        ):
            results.check_same_run(self.spec, self.corpus, self.workdir, train=False)

    def test_a_record_without_identity_is_refused_for_training(self):
        self.finish(None)
        with self.assertRaisesRegex(files.WorkdirError, r"different run \(it records no identity"):
            results.check_same_run(self.spec, self.corpus, self.workdir)

    def test_a_record_without_identity_is_read_for_the_report_alone(self):
        self.finish(None, self.spec)
        results.check_same_run(self.spec, self.corpus, self.workdir, train=False)

    def test_a_record_without_identity_of_another_config_is_refused_for_the_report(self):
        self.finish(None, RunSpec(get_config("test", hidden_size=8)))
        with self.assertRaisesRegex(
            files.WorkdirError,
            f"^{self.workdir} holds the results.json of a different run \\(hidden_size 8 "
            "there, 2 here\\); delete that directory",
        ):
            results.check_same_run(self.spec, self.corpus, self.workdir, train=False)


if __name__ == "__main__":
    absltest.main()
