"""The runs of the experiments: trained once, read afterwards, divergence recorded."""

import dataclasses
import json
import os

import helpers
from absl.testing import absltest

from ptb_rnn import files, reader
from ptb_rnn.config import get_config
from ptb_rnn.experiments import grid, results
from ptb_rnn.spec import RunSpec


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
        history = dataclasses.replace(
            helpers.finished_history(400.0), identity=self.spec.identity(self.corpus)
        )
        files.write_json(os.path.join(self.run_dir, files.RESULTS_FILE), history.to_json())
        self.assertEqual(grid.run_once(self.spec, self.corpus, self.run_dir), history)
        self.assertEqual(os.listdir(self.run_dir), [files.RESULTS_FILE])

    def test_a_recorded_divergence_is_not_trained_again(self):
        files.write_json(os.path.join(self.run_dir, results.DIVERGED_FILE), {"message": "..."})
        self.assertIsNone(grid.run_once(self.spec, self.corpus, self.run_dir))
        self.assertEqual(os.listdir(self.run_dir), [results.DIVERGED_FILE])

    def test_a_diverging_run_is_recorded_and_returns_none(self):
        spec = dataclasses.replace(
            self.spec, config=dataclasses.replace(self.spec.config, learning_rate=1e6)
        )
        self.assertIsNone(grid.run_once(spec, self.corpus, self.run_dir))
        with open(os.path.join(self.run_dir, results.DIVERGED_FILE)) as f:
            message = json.load(f)["message"]
        self.assertStartsWith(message, "training diverged at epoch 1, step ")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, files.RESULTS_FILE)))


if __name__ == "__main__":
    absltest.main()
