"""Resuming, stop signals and the divergence guard of the training command, as a user runs them.

The runs use the test config (1 layer of 2 units) with dropout on a generated corpus:
698 windows per epoch at batch_size 20, a checkpoint every 10 of them, and calls capped
there, so checkpoint k of epoch 1 holds step 10 k.
"""

import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import h5py
import helpers
import numpy as np
from absl.testing import absltest

WINDOWS_PER_EPOCH = 698
FLAGS = [
    "--config=test",
    "--vocab_size=31",
    "--keep_prob=0.5",  # dropout, so the random state must be restored too
    "--max_max_epoch=2",
    "--checkpoint_every_steps=10",
    "--deterministic",
]


def train_command(corpus, workdir, *flags):
    return [
        sys.executable,
        "-m",
        "ptb_rnn.train",
        f"--data_path={corpus}",
        f"--workdir={workdir}",
        *FLAGS,
        *flags,
    ]


def run_train(*command):
    return subprocess.run(command, capture_output=True, text=True, cwd=helpers.ROOT, timeout=300)


def latest_checkpoint(workdir):
    """The name of the latest checkpoint, e.g. "ckpt-3", or None."""
    path = os.path.join(workdir, "checkpoints", "checkpoint")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return re.match(r'model_checkpoint_path: "(.*)"', f.readline()).group(1)


def read_results(workdir):
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


def read_weights(workdir):
    """The arrays in model.weights.h5, by name."""
    weights = {}
    with h5py.File(os.path.join(workdir, "model.weights.h5")) as f:
        f.visititems(
            lambda name, item: (
                weights.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None
            )
        )
    return weights


class ResumeTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp()
        cls.corpus = helpers.random_corpus(os.path.join(cls.tmp, "corpus"), 4000, 100, 30)
        cls.uninterrupted = os.path.join(cls.tmp, "uninterrupted")
        result = run_train(*train_command(cls.corpus, cls.uninterrupted))
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)
        super().tearDownClass()

    def start_and_stop(self, workdir, signum):
        """Starts training, sends signum once the third checkpoint is saved, waits for it."""
        log_path = os.path.join(self.create_tempdir().full_path, "log")
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                train_command(self.corpus, workdir), stderr=log, cwd=helpers.ROOT
            )
            deadline = time.time() + 240
            while latest_checkpoint(workdir) in (None, "ckpt-1", "ckpt-2"):
                self.assertIsNone(process.poll(), "training ended before it could be stopped")
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            process.send_signal(signum)
            process.wait(timeout=240)
        with open(log_path) as f:
            return process.returncode, f.read()

    def assert_same_as_uninterrupted(self, workdir):
        expected, actual = read_results(self.uninterrupted), read_results(workdir)
        for key in (
            "train_perplexity",
            "valid_perplexity_training_layout",
            "eval",
            "test_perplexity",
        ):
            self.assertEqual(actual[key], expected[key], key)
        expected, actual = read_weights(self.uninterrupted), read_weights(workdir)
        self.assertEqual(sorted(actual), sorted(expected))
        for name in expected:
            np.testing.assert_array_equal(actual[name], expected[name], name)

    def test_killed_run_resumes_to_bitwise_the_same_results(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        returncode, _ = self.start_and_stop(workdir, signal.SIGKILL)
        self.assertEqual(returncode, -signal.SIGKILL)
        self.assertFalse(os.path.exists(os.path.join(workdir, "results.json")))

        result = run_train(*train_command(self.corpus, workdir))
        self.assertEqual(result.returncode, 0, result.stderr)
        resumed = re.search(r"Resuming from \S+/ckpt-\d+: epoch 1, step (\d+)\n", result.stderr)
        self.assertIsNotNone(resumed, result.stderr)
        self.assertBetween(int(resumed.group(1)), 30, WINDOWS_PER_EPOCH - 1)  # mid-epoch
        self.assert_same_as_uninterrupted(workdir)

    def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        returncode, log = self.start_and_stop(workdir, signal.SIGTERM)
        self.assertEqual(returncode, 128 + signal.SIGTERM)
        stopped = re.fullmatch(
            rf"SIGTERM: stopped at epoch 1, step (\d+) of {WINDOWS_PER_EPOCH}, checkpoint saved "
            rf"in {workdir}/checkpoints; run the same command again to resume\.",
            log.splitlines()[-1],
        )
        self.assertIsNotNone(stopped, log)
        self.assertEqual(latest_checkpoint(workdir), f"ckpt-{int(stopped.group(1)) // 10}")
        self.assertFalse(os.path.exists(os.path.join(workdir, "results.json")))

    def test_workdir_of_a_different_config_is_refused(self):
        results_before = read_results(self.uninterrupted)
        result = run_train(*train_command(self.corpus, self.uninterrupted), "--hidden_size=3")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr.splitlines()[-1],
            f"error: {self.uninterrupted} holds checkpoints of a different run (hidden_size 2 "
            "there, 3 here); pass --restart to start over there, or choose another --workdir.",
        )
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(read_results(self.uninterrupted), results_before)

    def test_restart_starts_over(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        shutil.copytree(self.uninterrupted, workdir)
        command = train_command(self.corpus, workdir, "--hidden_size=3", "--max_max_epoch=1")
        result = run_train(*command, "--restart")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Resuming", result.stderr)
        results = read_results(workdir)
        self.assertEqual(results["config"]["hidden_size"], 3)
        self.assertLen(results["train_perplexity"], 1)
        with open(os.path.join(workdir, "checkpoints", "run.json")) as f:
            self.assertEqual(json.load(f)["config"]["hidden_size"], 3)

    def copy_of_finished_run(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        shutil.copytree(self.uninterrupted, workdir)
        return workdir

    def test_a_finished_run_is_not_trained_again(self):
        workdir = self.copy_of_finished_run()
        before = read_results(workdir)
        result = run_train(*train_command(self.corpus, workdir))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{workdir} holds this run, finished; nothing to train.", result.stderr)
        self.assertNotIn("Epoch: 1", result.stderr)
        self.assertEqual(read_results(workdir), before)

    def test_a_finished_run_extended_by_an_epoch_is_the_longer_run(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        result = run_train(*train_command(self.corpus, workdir), "--max_max_epoch=1")
        self.assertEqual(result.returncode, 0, result.stderr)
        one_epoch = read_results(workdir)
        result = run_train(*train_command(self.corpus, workdir))  # --max_max_epoch=2
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            f"{workdir} holds this run, finished after epoch 1: extending it to 2 epochs.",
            result.stderr,
        )
        self.assertNotIn("Epoch: 1 ", result.stderr)
        self.assert_same_as_uninterrupted(workdir)
        extended = read_results(workdir)
        for key in (
            "learning_rate",
            "train_perplexity",
            "valid_perplexity_training_layout",
            "train_words",
        ):
            self.assertEqual(extended[key][:1], one_epoch[key], key)
        self.assertEqual(extended["config"]["max_max_epoch"], 2)

    def test_a_finished_run_is_not_shortened(self):
        workdir = self.copy_of_finished_run()
        before = read_results(workdir)
        result = run_train(*train_command(self.corpus, workdir), "--max_max_epoch=1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: {workdir} holds a finished run of 2 epochs, more than max_max_epoch 1; "
            "pass --max_max_epoch=2 to keep it (or more to extend it), --restart to start "
            "over there, or choose another --workdir.\n",
        )
        self.assertEqual(read_results(workdir), before)

    def test_results_of_a_different_run_are_refused_without_checkpoints(self):
        workdir = self.copy_of_finished_run()
        shutil.rmtree(os.path.join(workdir, "checkpoints"))
        before = read_results(workdir)
        result = run_train(*train_command(self.corpus, workdir), "--seed=1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: {workdir} holds the results.json of a different run (seed 0 there, 1 "
            "here); pass --restart to start over there, or choose another --workdir.\n",
        )
        self.assertEqual(read_results(workdir), before)

    def test_restart_with_a_bad_input_deletes_nothing(self):
        workdir = self.copy_of_finished_run()
        before = sorted(os.listdir(workdir))
        result = run_train(*train_command(self.corpus, workdir), "--restart", "--seed=-1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(sorted(os.listdir(workdir)), before)
        self.assertEqual(read_results(workdir), read_results(self.uninterrupted))

    def test_files_have_the_same_permissions(self):
        modes = {
            name: stat.S_IMODE(os.stat(os.path.join(self.uninterrupted, name)).st_mode)
            for name in ("results.json", "model.weights.h5", "checkpoints/run.json")
        }
        self.assertLen(set(modes.values()), 1, modes)

    def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        self.start_and_stop(workdir, signal.SIGKILL)
        newest = latest_checkpoint(workdir)
        (data,) = glob.glob(os.path.join(workdir, "checkpoints", f"{newest}.data-*"))
        with open(data, "r+b") as f:
            f.truncate(os.path.getsize(data) // 2)
        result = run_train(*train_command(self.corpus, workdir))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            f"Skipping checkpoint {workdir}/checkpoints/{newest}, which cannot be restored",
            result.stderr,
        )
        number = int(newest.removeprefix("ckpt-"))
        self.assertIn(f"Resuming from {workdir}/checkpoints/ckpt-{number - 1}:", result.stderr)
        self.assert_same_as_uninterrupted(workdir)

    def test_no_checkpoint_that_restores_is_a_clear_error(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        self.start_and_stop(workdir, signal.SIGKILL)
        for index in glob.glob(os.path.join(workdir, "checkpoints", "*.index")):
            open(index, "w").close()
        result = run_train(*train_command(self.corpus, workdir))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr.splitlines()[-1],
            rf"^error: no checkpoint in {workdir}/checkpoints can be restored \(ckpt-\d+: .*; "
            r"ckpt-\d+: .*\); pass --restart to start over there, or choose another --workdir\.$",
        )
        self.assertNotIn("Traceback", result.stderr)

    def test_a_second_run_on_a_workdir_in_use_is_refused(self):
        workdir = os.path.join(self.create_tempdir().full_path, "run")
        with open(os.devnull, "w") as devnull:
            first = subprocess.Popen(
                train_command(self.corpus, workdir), stderr=devnull, cwd=helpers.ROOT
            )
            try:
                deadline = time.time() + 240
                while latest_checkpoint(workdir) is None:
                    self.assertIsNone(first.poll(), "training ended before the second run")
                    self.assertLess(time.time(), deadline)
                    time.sleep(0.01)
                second = run_train(*train_command(self.corpus, workdir))
            finally:
                first.send_signal(signal.SIGTERM)
                first.wait(timeout=240)
        self.assertEqual(second.returncode, 2, second.stderr)
        self.assertEqual(
            second.stderr.splitlines()[-1],
            f"error: {workdir} is in use by another run (process {first.pid}); wait for it to "
            "end, or choose another --workdir.",
        )
        self.assertEqual(first.returncode, 128 + signal.SIGTERM)


class DivergenceTest(absltest.TestCase):
    def test_stops_with_one_line_and_keeps_the_last_good_checkpoint(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 100, 20, 30)
        workdir = os.path.join(tmp, "run")
        # The first window's loss is fine; the update after it, a million times too
        # large, makes the second window's loss explode.
        result = run_train(
            *train_command(corpus, workdir, "--learning_rate=1e6", "--checkpoint_every_steps=1")
        )
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertRegex(
            result.stderr.splitlines()[-1],
            r"^error: training diverged at epoch 1, step 2 \(learning rate 1e\+06\): the loss "
            r"is \S+ nats over 2 steps; nothing after epoch 1, step 1 was saved\. Lower "
            r"--learning_rate or --max_grad_norm and start over with --restart\.$",
        )
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(latest_checkpoint(workdir), "ckpt-1")
        self.assertFalse(os.path.exists(os.path.join(workdir, "checkpoints", "ckpt-2.index")))
        self.assertFalse(os.path.exists(os.path.join(workdir, "results.json")))
        self.assertFalse(os.path.exists(os.path.join(workdir, "model.weights.h5")))


if __name__ == "__main__":
    absltest.main()
