"""The training command, run as a user runs it."""

import json
import os
from unittest import mock

import helpers
from absl.testing import absltest, flagsaver

from ptb_rnn import train


def run_train(*flags):
    return helpers.run_module("ptb_rnn.train", *flags)


class TrainCliTest(absltest.TestCase):
    def test_writes_results(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 80, 20, 30)
        workdir = os.path.join(tmp, "run")
        flags = ["--config=test", f"--data_path={corpus}", f"--workdir={workdir}"]
        result = run_train(*flags, "--vocab_size=31", "--max_max_epoch=2", "--hidden_size=4")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(workdir, "results.json")) as f:
            results = json.load(f)
        self.assertEqual(results["config"]["hidden_size"], 4)
        self.assertEqual(results["config"]["num_steps"], 2)
        self.assertLen(results["train_perplexity"], 2)
        self.assertLess(results["test_perplexity"], 31)
        for key in ("valid_perplexity_training_layout", "words_per_second", "wall_seconds"):
            self.assertIn(key, results)

    def test_unknown_config_is_one_line_and_exit_2(self):
        result = run_train("--config=huge", f"--workdir={self.create_tempdir().full_path}/run")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "error: unknown config 'huge'; choose one of small, medium, large, test.",
        )
        self.assertNotIn("Traceback", result.stderr)


def as_worker(index: int):
    """TF_CONFIG for worker index of two."""
    cluster = {"worker": ["127.0.0.1:2001", "127.0.0.1:2002"]}
    tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
    return mock.patch.dict(os.environ, {"TF_CONFIG": json.dumps(tf_config)})


class ErrorLogTest(absltest.TestCase):
    def test_the_chief_writes_its_error_log_in_the_workdir(self):
        with flagsaver.flagsaver(strategy="multi_worker", workdir="runs/two"), as_worker(0):
            self.assertEqual(train.error_log_dir(), "runs/two")

    def test_another_worker_writes_its_error_log_elsewhere(self):
        with flagsaver.flagsaver(strategy="multi_worker", workdir="runs/two"), as_worker(1):
            self.assertIsNone(train.error_log_dir())


if __name__ == "__main__":
    absltest.main()
