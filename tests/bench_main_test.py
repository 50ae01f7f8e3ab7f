import json
import os
import subprocess
import sys

import helpers
from absl.testing import absltest


class BenchCliTest(absltest.TestCase):
    def test_prints_table_and_writes_json(self):
        path = os.path.join(self.create_tempdir().full_path, "bench.json")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ptb_rnn.bench",
                "--config=test",
                "--calls=1",
                "--repeats=1",
                "--test_words=3000",
                f"--json={path}",
            ],
            capture_output=True,
            text=True,
            cwd=helpers.ROOT,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("GFLOP/s", result.stdout)
        with open(path) as f:
            report = json.load(f)
        self.assertGreater(report["matmul_gflops"], 0)
        (row,) = report["configs"]
        self.assertEqual(row["config"], "test")
        # test config: softmax 2*2*10000 + one layer 2*(2*8 + 2*8), times 3 for training
        self.assertEqual(row["train_flops_per_word"], 3 * (40_000 + 64))
        self.assertTrue(row["fused_lstm"])
        for key in (
            "train_words_per_second",
            "softmax_train_words_per_second",
            "valid_words_per_second",
            "test_seconds",
        ):
            self.assertGreater(row[key], 0)


if __name__ == "__main__":
    absltest.main()
