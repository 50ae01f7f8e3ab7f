"""The experiments from the command line: the grid, its report, divergence, bad input."""

import os

import helpers
from absl.testing import absltest

from ptb_rnn import files

TINY = ["--config=test", "--vocab_size=31", "--noecho"]


class GridTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 200, 30, 30)
        self.out = os.path.join(tmp, "out")
        self.flags = [*TINY, f"--data_path={corpus}", "--epochs=2", "--train_fraction=0.5"]
        self.flags.append(f"--output_dir={self.out}")

    def run_experiments(self, *flags):
        return helpers.run_module("ptb_rnn.experiments", *self.flags, *flags)

    def read_report(self):
        with open(os.path.join(self.out, "experiments.md")) as f:
            return f.read()

    def test_two_mode_grid_writes_table_and_png(self):
        modes = ["--modes=tbptt,stateless_one_step", "--learning_rates=1"]
        result = self.run_experiments(*modes)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = self.read_report()
        self.assertIn("| tbptt | 2 | yes |", report)
        self.assertIn("| stateless_one_step | 1 | no |", report)
        self.assertIn("| mode | lr 1 |", report)
        with open(os.path.join(self.out, "experiments_ptb.png"), "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20_000)
        runs = sorted(os.listdir(os.path.join(self.out, "runs", "tbptt")))
        self.assertEqual(runs, ["lr_1"])

        # A second call finds every run finished and only rewrites the report.
        results = os.path.join(self.out, "runs", "tbptt", "lr_1", files.RESULTS_FILE)
        mtime = os.path.getmtime(results)
        result = self.run_experiments(*modes)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Epoch: 1", result.stderr)
        self.assertEqual(os.path.getmtime(results), mtime)

    def test_a_rerun_with_other_settings_is_refused_before_training(self):
        modes = ["--modes=tbptt", "--learning_rates=1"]
        result = self.run_experiments(*modes)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = self.read_report()
        result = self.run_experiments(*modes, "--seed=3", "--hidden_size=8")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: {self.out}/runs/tbptt/lr_1 holds checkpoints of a different run "
            "(hidden_size 2 there, 8 here, seed 0 there, 3 here); delete that directory to "
            "train this run there, or choose another --output_dir.\n",
        )
        self.assertEqual(self.read_report(), report)

    def test_notrain_reports_the_runs_that_ended_and_trains_none(self):
        result = self.run_experiments("--modes=tbptt", "--learning_rates=1")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.run_experiments("--modes=tbptt", "--learning_rates=1,2", "--notrain")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Epoch: 1", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, "runs", "tbptt", "lr_2")))
        self.assertIn("| mode | lr 1 |\n", self.read_report())  # lr 2 never ran

    def test_a_diverging_learning_rate_shows_in_the_grid_and_is_not_picked(self):
        result = self.run_experiments("--modes=tbptt", "--learning_rates=1,1e6")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = self.read_report()
        self.assertRegex(report, r"\| tbptt \| \*\*[0-9.]+\*\* \| diverged \|")
        self.assertIn("| tbptt | 2 | yes | 1 |", report)
        diverged = os.path.join(self.out, "runs", "tbptt", "lr_1e+06", "diverged.json")
        self.assertStartsWith(
            files.read_json(diverged)["message"], "training diverged at epoch 1, step "
        )


class FullScaleTest(absltest.TestCase):
    def test_full_runs_timed_at_the_measured_speeds(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 200, 30, 30)
        out = os.path.join(tmp, "out")
        for mode in ("tbptt", "stateless_one_step"):  # the grid's picks: learning rate 1
            path = os.path.join(out, "runs", mode, "lr_1", files.RESULTS_FILE)
            files.write_json(path, helpers.finished_history(400.0).to_json())
        result = helpers.run_module(
            "ptb_rnn.experiments",
            *TINY,
            f"--data_path={corpus}",
            f"--output_dir={out}",
            "--modes=tbptt,stateless_one_step",
            "--full",
            "--second_seed_modes=",
            "--measure_speeds",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        measured = files.read_json(os.path.join(out, "full", "speeds.json"))
        # The test config's windows of 2 words, carried, and stateless_one_step's of 1.
        kinds = [(row["num_steps"], row["carry_state"]) for row in measured["speeds"]]
        self.assertEqual(kinds, [(1, False), (2, True)])
        self.assertTrue(all(len(row["words_per_second"]) == 5 for row in measured["speeds"]))
        with open(os.path.join(out, "full_scale.md")) as f:
            report = f.read()
        self.assertIn(f"Training times: each run's windows at the training speeds in {out}", report)
        self.assertIn("| tbptt | 0 | 1 |", report)
        self.assertIn("| stateless_one_step | 0 | 1 |", report)


class LayoutStudyTest(absltest.TestCase):
    def test_one_setting_trained_timed_and_reported(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 200, 30, 30)
        out = os.path.join(tmp, "out")
        # --batch_size=4: both learning sweeps are the one setting 4 x 2; its grid's
        # middle rate is the pick (0.001 hardly moves the weights, 5 overshoots).
        study = [
            "--study=layout",
            "--config=test",
            "--vocab_size=31",
            "--batch_size=4",
            f"--data_path={corpus}",
            f"--output_dir={out}",
            "--train_fraction=0.5",
            "--layout_batch_sizes=4",
            "--layout_num_steps=2",
            "--learning_rates=0.001,0.05,5",
            "--curve_points_per_epoch=2",
            "--speed_batch_sizes=1,4",
            "--speed_num_steps=2",
        ]
        result = helpers.run_module("ptb_rnn.experiments", *study, "--measure_speeds", timeout=900)
        self.assertEqual(result.returncode, 0, result.stderr)
        setting_dir = os.path.join(out, "layout", "batch_4_steps_2")
        self.assertEqual(sorted(os.listdir(setting_dir)), ["lr_0.001", "lr_0.05", "lr_5"])
        measured = files.read_json(os.path.join(out, "layout", "speeds.json"))
        rows = [(row["batch_size"], row["num_steps"]) for row in measured["speeds"]]
        self.assertEqual(rows, [(1, 2), (4, 2)])
        self.assertTrue(all(len(row["words_per_second"]) == 5 for row in measured["speeds"]))
        with open(os.path.join(out, "layout.md")) as f:
            report = f.read()
        self.assertIn("\n| 4 | 2 | 0.05 | inside | 0.001: ", report)
        timing = f"Training times: each run's words at the median speed of its setting in {out}"
        self.assertIn(timing, report)
        for name in ("layout_speed.png", "layout_words.png", "layout_seconds.png"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)

        # The report again from the runs and speeds recorded: nothing trained or timed.
        results = os.path.join(setting_dir, "lr_0.05", files.RESULTS_FILE)
        mtime = os.path.getmtime(results)
        result = helpers.run_module("ptb_rnn.experiments", *study, "--notrain")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.getmtime(results), mtime)
        with open(os.path.join(out, "layout.md")) as f:
            self.assertEqual(f.read(), report)


class BadInputTest(absltest.TestCase):
    """Every input is checked before TensorFlow is imported: one line, exit code 2."""

    def test_one_line_on_stderr_and_nothing_written(self):
        tmp = self.create_tempdir().full_path
        # 20 lines of 3 to 9 words and their <eos>: 152 words, rows of 7 at batch_size 20.
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 20, 10, 30)
        out = os.path.join(tmp, "out")
        cases = {
            "--learning_rates=1,fast": "error: cannot read --learning_rates=1,fast; give numbers "
            "above 0 separated by commas, e.g. 0.5,1,2.",
            "--learning_rates=-1": "error: cannot read --learning_rates=-1; give numbers "
            "above 0 separated by commas, e.g. 0.5,1,2.",
            "--train_fraction=0": "error: --train_fraction must be in (0, 1], got 0.0.",
            "--modes=tbptt,tbtt": "error: unknown mode 'tbtt'; choose one of tbptt, "
            "stateless_one_step, one_step_carry, windows_reset, tbptt_k5, tbptt_k35, curriculum, "
            "curriculum_epoch1.",
            # Each mode sets its own truncation: the tool has no --mode.
            "--mode=tbptt": "error: Unknown command line flag 'mode'. Did you mean: modes ?; see "
            "--help for the flags.",
            # tbptt's windows of 2 words fit; tbptt_k35's do not.
            "--modes=tbptt,tbptt_k35": "error: train split: 152 words, needs at least 720 to "
            "fill one window of batch_size 20 x num_steps 35; give it more text, or decrease "
            "--batch_size or --num_steps.",
            "--measure_speeds": "error: --measure_speeds applies only with --full or "
            "--study=layout.",
            "--full": "error: --train_fraction does not apply with --full: all of PTB, 6 "
            "epochs, at the learning rate the grid picked.",
        }
        for flag, message in cases.items():
            with self.subTest(flag):
                result = helpers.run_module(
                    "ptb_rnn.experiments",
                    *TINY,
                    f"--data_path={corpus}",
                    "--train_fraction=1",
                    f"--output_dir={out}",
                    flag,
                )
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stderr, message + "\n")
                self.assertFalse(os.path.exists(out))

    def test_bad_layout_flags_one_line_and_nothing_written(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 20, 10, 30)
        out = os.path.join(tmp, "out")
        cases = {
            "--layout_batch_sizes=": "error: cannot read --layout_batch_sizes=; give whole "
            "numbers above 0 separated by commas, e.g. 1,4,20.",
            "--speed_batch_sizes=1,0": "error: cannot read --speed_batch_sizes=1,0; give whole "
            "numbers above 0 separated by commas, e.g. 1,4,20.",
            "--layout_num_steps=-5": "error: cannot read --layout_num_steps=-5; give whole "
            "numbers above 0 separated by commas, e.g. 1,4,20.",
            "--train_fraction=1.5": "error: --train_fraction must be in (0, 1], got 1.5.",
            "--train_fraction=0": "error: --train_fraction must be in (0, 1], got 0.0.",
            "--noecho": "error: --echo does not apply with --study=layout.",
            "--study=sizes": "error: flag --study=sizes: value should be one of <bptt|layout>; "
            "see --help for the flags.",
        }
        for flag, message in cases.items():
            with self.subTest(flag):
                result = helpers.run_module(
                    "ptb_rnn.experiments",
                    "--study=layout",
                    "--config=test",
                    "--vocab_size=31",
                    f"--data_path={corpus}",
                    f"--output_dir={out}",
                    flag,
                )
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stderr, message + "\n")
                self.assertFalse(os.path.exists(out))

    def test_full_scale_needs_the_grids_picks(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 20, 10, 30)
        out = os.path.join(tmp, "out")
        result = helpers.run_module(
            "ptb_rnn.experiments",
            *TINY,
            f"--data_path={corpus}",
            f"--output_dir={out}",
            "--full",
            "--modes=tbptt,tbptt_k5",
        )
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr,
            f"error: no learning rate picked for tbptt, tbptt_k5 in {out}/runs; run the grid "
            "for them first: python -m ptb_rnn.experiments --modes=tbptt,tbptt_k5.\n",
        )
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    absltest.main()
