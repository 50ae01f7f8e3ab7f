import os
import subprocess
import sys

import helpers
from absl.testing import absltest

from ptb_rnn import experiments


class EchoStreamTest(absltest.TestCase):
    def test_answer_repeats_the_key_delay_words_back(self):
        words, answers = experiments.echo_stream(delay=5, num_words=200, seed=0)
        self.assertGreater(len(answers), 20)
        for t in answers:
            self.assertEqual(words[t - 1], "Q")
            self.assertEqual(words[t], words[t - 5])
            self.assertIn(words[t], experiments.KEYS)
            self.assertTrue(all(w in experiments.FILLERS for w in words[t - 4 : t - 1]))

    def test_keys_and_queries_appear_only_in_segments(self):
        words, answers = experiments.echo_stream(delay=3, num_words=100, seed=1)
        keys = [i for i, w in enumerate(words) if w in experiments.KEYS]
        self.assertEqual(keys, sorted([*(answers - 3), *answers]))
        self.assertEqual(words.count("Q"), len(answers))


class RunnerTest(absltest.TestCase):
    def test_two_mode_grid_writes_table_and_png(self):
        tmp = self.create_tempdir().full_path
        corpus = helpers.random_corpus(os.path.join(tmp, "corpus"), 200, 30, 30)
        out = os.path.join(tmp, "out")
        command = [
            sys.executable,
            "-m",
            "ptb_rnn.experiments",
            "--config=test",
            "--vocab_size=31",
            f"--data_path={corpus}",
            "--modes=tbptt,stateless_one_step",
            "--learning_rates=1",
            "--epochs=2",
            "--train_fraction=0.5",
            "--noecho",
            f"--output_dir={out}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "experiments.md")) as f:
            report = f.read()
        self.assertIn("| tbptt | 2 | yes |", report)
        self.assertIn("| stateless_one_step | 1 | no |", report)
        self.assertIn("| mode | lr 1 |", report)
        with open(os.path.join(out, "experiments_ptb.png"), "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20_000)
        runs = sorted(os.listdir(os.path.join(out, "runs", "tbptt")))
        self.assertEqual(runs, ["lr_1"])

        # A second call finds every run finished and only rewrites the report.
        mtime = os.path.getmtime(os.path.join(out, "runs", "tbptt", "lr_1", "results.json"))
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Epoch: 1", result.stderr)
        self.assertEqual(
            os.path.getmtime(os.path.join(out, "runs", "tbptt", "lr_1", "results.json")), mtime
        )


if __name__ == "__main__":
    absltest.main()
