import json
import os
import shutil
import tempfile

import helpers
from absl.testing import absltest, parameterized

from ptb_rnn.bench import __main__ as bench_main

# The test config, timed once, with a small matmul: seconds, not minutes.
QUICK = ("--config=test", "--calls=1", "--test_words=3000", "--matmul_size=64")


class BenchRunTest(absltest.TestCase):
    """One quick run of the benchmark, read by every test of the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.directory = tempfile.mkdtemp()
        path = os.path.join(cls.directory, "bench.json")
        cls.result = helpers.run_module("ptb_rnn.bench", *QUICK, "--repeats=1", f"--json={path}")
        if cls.result.returncode == 0:
            with open(path) as f:
                cls.report = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_prints_table_and_writes_json(self):
        self.assertIn("GFLOP/s", self.result.stdout)
        self.assertGreater(self.report["matmul_gflops"], 0)
        (row,) = self.report["configs"]
        self.assertEqual(row["config"], "test")
        # test config: softmax 2*2*10000 + one layer 2*(2*8 + 2*8), times 3 for training
        self.assertEqual(row["train_flops_per_word"], 3 * (40_000 + 64))
        self.assertTrue(row["fused_lstm"])
        self.assertEqual((row["softmax"], row["precision"]), ("dense", "float32"))
        for key in (
            "train_words_per_second",
            "softmax_train_words_per_second",
            "valid_words_per_second",
            "test_seconds",
            "predicted_minutes",
        ):
            self.assertGreater(row[key], 0)
        self.assertIn("test float32: the matmuls of a window", self.result.stdout)

    def test_names_onednns_bfloat16_kernel(self):
        isa = self.report["onednn_bfloat16_isa"]
        self.assertRegex(isa, r"^(none|[a-z0-9_]+)$")
        self.assertIn(f"oneDNN's bfloat16 matmul kernel: {isa}", self.result.stdout)

    def test_matmul_rates_in_both_precisions_in_and_out_of_xla(self):
        # The square matmul, then the test config's softmax layer: 40 rows, 2 units,
        # 10000 words.
        square, softmax = self.report["matmul_rates"]
        self.assertEqual((square["shape"], softmax["shape"]), ([64, 64, 64], [40, 2, 10000]))
        for kind in ("float32", "float32_xla", "bfloat16", "bfloat16_xla"):
            self.assertGreater(square[kind], 0, kind)


class BenchCliTest(parameterized.TestCase):
    def run_bench(self, *flags):
        path = os.path.join(self.create_tempdir().full_path, "bench.json")
        result = helpers.run_module("ptb_rnn.bench", *QUICK, *flags, f"--json={path}")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(path) as f:
            return result.stdout, json.load(f)

    def test_a_run_is_measured_against_the_matmul_rate_of_its_precision(self):
        report = {"matmul_rates": [{"float32": 100.0, "bfloat16": 400.0}]}
        self.assertEqual(bench_main.reference_gflops(report, "float32"), 100.0)
        self.assertEqual(bench_main.reference_gflops(report, "mixed_bfloat16"), 400.0)

    def test_roof_lists_each_product_with_its_time_and_share(self):
        # 10 products of 10 x 10 x 10 at 2 GFLOP/s: 10 * 2000 / 2e9 = 10 us; one of
        # 100 x 100 x 100 at 20 GFLOP/s: 2e6 / 2e10 = 100 us. 110 us in all.
        matmuls = [
            {"shape": [10, 10, 10], "count": 10, "gflops": 2.0},
            {"shape": [100, 100, 100], "count": 1, "gflops": 20.0},
        ]
        row = {
            "config": "test",
            "precision": "float32",
            "matmul_roof": {"window_seconds": 110e-6, "matmuls": matmuls},
        }
        self.assertEqual(
            bench_main.format_roof(row),
            [
                "",
                "test float32: the matmuls of a window (0.1 ms in all)",
                "  m x k x n            per window  GFLOP/s      ms  share",
                "  10 x 10 x 10                 10      2.0    0.01   9.1%",
                "  100 x 100 x 100               1     20.0    0.10  90.9%",
            ],
        )

    def test_compare_alternates_two_settings(self):
        stdout, report = self.run_bench("--compare=softmax=dense,softmax=fused", "--rounds=2")
        self.assertIn("B/A", stdout)
        self.assertEqual(report["compare"], ["softmax=dense", "softmax=fused"])
        (row,) = report["configs"]
        for part in ("train", "valid"):
            self.assertLen(row[part]["ratio"], 2)
            self.assertAlmostEqual(row[part]["ratio"][0], row[part]["b"][0] / row[part]["a"][0])
        self.assertLen(row["predicted_minutes"], 2)

    def test_compare_of_a_field_it_cannot_set_is_refused(self):
        result = helpers.run_module("ptb_rnn.bench", *QUICK, "--compare=seed=0,seed=1")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "error: --compare: cannot read 'seed=0'; write field=value with a field among "
            "softmax, precision, fused_lstm, windows_per_call, strategy, e.g. "
            "--compare=softmax=dense,softmax=fused.",
        )

    def test_strategies_beyond_one_device_are_refused(self):
        flags = ["--strategy=mirrored", "--cpu_devices=2"]
        result = helpers.run_module("ptb_rnn.bench", *QUICK, *flags)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "error: the benchmark runs on one device; to time what splitting the step over "
            "replicas costs there, pass --compare=strategy=one_device,strategy=mirrored.",
        )

    @parameterized.named_parameters(
        ("no_calls", "--calls=0", "flag --calls=0: 0 is not a positive integer"),
        ("no_repeats", "--repeats=0", "flag --repeats=0: 0 is not a positive integer"),
        ("no_rounds", "--rounds=0", "flag --rounds=0: 0 is not a positive integer"),
        ("no_test_words", "--test_words=0", "flag --test_words=0: 0 is not integer >= 2"),
        ("one_test_word", "--test_words=1", "flag --test_words=1: 1 is not integer >= 2"),
        ("no_matmul", "--matmul_size=0", "flag --matmul_size=0: 0 is not a positive integer"),
        (
            "negative_matmul",
            "--matmul_size=-5",
            "flag --matmul_size=-5: -5 is not a positive integer",
        ),
    )
    def test_a_count_out_of_range_is_refused_before_measuring(self, flag, expected):
        result = helpers.run_module("ptb_rnn.bench", "--config=test", flag)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}; see --help for the flags.\n")
        self.assertEqual(result.stdout, "")

    def test_json_that_is_a_directory_is_refused_before_measuring(self):
        directory = self.create_tempdir().full_path
        result = helpers.run_module("ptb_rnn.bench", *QUICK, f"--json={directory}")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: --json={directory} is a directory; give a file name, e.g. "
            f"--json={directory}/bench.json.\n",
        )
        self.assertEqual(result.stdout, "")


if __name__ == "__main__":
    absltest.main()
