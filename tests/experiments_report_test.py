"""experiments.md and the learning curves, from runs whose numbers are set by hand."""

import dataclasses
import os

from absl.testing import absltest

from ptb_rnn.config import get_config
from ptb_rnn.experiments import report
from ptb_rnn.experiments.results import Run
from ptb_rnn.training.history import History


def finished(valid, num_steps=20, carry_state=True):
    """A two-epoch History: validation perplexity 2 * valid then valid (state as trained)."""
    history = History(
        dataclasses.asdict(get_config("small", num_steps=num_steps)),
        {"carry_state": carry_state, "schedule": [], "ramp": False},
    )
    history.add_epoch(2.0, 900.0, 2 * valid, 3000.0, 40_000, 30.0, 28.0)
    history.add_epoch(2.0, 420.0, valid, 3400.0, 80_000, 60.0, 56.0)
    history.finish(
        {
            "carried": {"valid": valid + 1, "test": valid - 10},
            "trained_state": {"valid": valid, "test": valid - 11},
        },
        90.0,
    )
    return history


RUNS = [
    Run("tbptt", 1.0, finished(400.0)),
    Run("tbptt", 2.0, finished(350.04)),
    Run("tbptt", 1e6, None),
    Run("windows_reset", 1.0, finished(410.0, carry_state=False)),
]

ECHO_ROWS = [
    {
        "delay": 5,
        "num_steps": 10,
        "carry_state": True,
        "test_perplexity": 5.123,
        "answers": {
            "carried": {"same_window": 1.011, "earlier_window": 1.014},
            "reset": {"same_window": 1.04, "earlier_window": 35.05},
        },
    },
    {
        "delay": 5,
        "num_steps": 3,
        "carry_state": False,
        "test_perplexity": 17.84,
        "answers": {
            "carried": {"same_window": None, "earlier_window": 4.68},
            "reset": {"same_window": None, "earlier_window": 4.17},
        },
    },
    {"delay": 5, "num_steps": 3, "carry_state": True, "test_perplexity": None, "answers": None},
]


class TablesTest(absltest.TestCase):
    def test_grid_table_bolds_each_modes_pick_and_shows_divergence(self):
        self.assertEqual(
            report.grid_table(RUNS),
            [
                "| mode | lr 1 | lr 2 | lr 1e+06 |",
                "|---|---|---|---|",
                "| tbptt | 400.0 | **350.0** | diverged |",
                "| windows_reset | **410.0** | – | – |",
            ],
        )

    def test_grid_table_writes_huge_perplexities_in_powers_of_ten(self):
        runs = [Run("tbptt", 2.0, finished(398.43)), Run("tbptt", 8.0, finished(8.7485e22))]
        self.assertEqual(report.grid_table(runs)[2], "| tbptt | **398.4** | 8.7e+22 |")

    def test_results_table_row_per_run(self):
        self.assertEqual(
            report.results_table([RUNS[1], RUNS[3]])[2:],
            [
                "| tbptt | 20 | yes | 2 | 420.0 | 351.0 | 350.0 | 340.0 | 339.0 | 3200 | 1.5 min |",
                "| windows_reset | 20 | no | 1 | 420.0 | 411.0 | 410.0 | 400.0 | 399.0 | 3200 "
                "| 1.5 min |",
            ],
        )

    def test_echo_table_dashes_where_no_key_is_and_marks_divergence(self):
        self.assertEqual(
            report.echo_table(ECHO_ROWS)[2:],
            [
                "| 5 | 10 | yes | 1.01 | 1.01 | 1.04 | 35.05 | 5.12 |",
                "| 5 | 3 | no | – | 4.68 | – | 4.17 | 17.84 |",
                "| 5 | 3 | yes | diverged | diverged | diverged | diverged | diverged |",
            ],
        )


class WriteReportTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        self.path = os.path.join(self.directory, "experiments.md")

    def read(self):
        with open(self.path) as f:
            return f.read()

    def test_sections_in_order_and_nothing_else_left_in_the_directory(self):
        report.write_report(self.path, RUNS, ECHO_ROWS, "Setup: by hand.")
        text = self.read()
        self.assertStartsWith(
            text, "# Why backpropagate through time? Measured\n\nSetup: by hand.\n"
        )
        headings = [line for line in text.splitlines() if line.startswith("## ")]
        self.assertEqual(
            headings,
            [
                "## PTB: the picked learning rate of each mode",
                "## PTB: the learning-rate grid (validation perplexity, state as trained)",
                "## Echo task: what the state carries and what the truncated gradient can learn",
            ],
        )
        self.assertIn("![learning curves](experiments_ptb.png)", text)
        self.assertEqual(os.listdir(self.directory), ["experiments.md"])

    def test_picked_table_leaves_out_runs_not_picked(self):
        report.write_report(self.path, RUNS, [], "Setup: by hand.")
        text = self.read()
        self.assertIn("\n| tbptt | 20 | yes | 2 | 420.0 |", text)
        self.assertNotIn("\n| tbptt | 20 | yes | 1 |", text)
        self.assertNotIn("## Echo", text)

    def test_echo_only(self):
        report.write_report(self.path, [], ECHO_ROWS, "Setup: echo task only.")
        self.assertNotIn("## PTB", self.read())


class PlotCurvesTest(absltest.TestCase):
    def test_writes_a_png_and_nothing_else(self):
        directory = self.create_tempdir().full_path
        path = os.path.join(directory, report.PTB_PNG)
        report.plot_curves([RUNS[1], RUNS[3]], path, "PTB, by hand")
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(os.listdir(directory), [report.PTB_PNG])


def with_curve(history, points):
    """history with a validation curve of (words, train_seconds, trained_state) points."""
    history.curve = [
        {"words": w, "train_seconds": t, "carried": p + 5, "trained_state": p} for w, t, p in points
    ]
    return history


FULL_RUNS = [
    Run("tbptt", 2.0, with_curve(finished(140.0), [(1e6, 60, 320), (2e6, 120, 180)])),
    Run(
        "windows_reset",
        2.0,
        with_curve(finished(250.0, carry_state=False), [(1e6, 90, 290)]),
        seed=1,
    ),
]


class FullScaleTest(absltest.TestCase):
    def test_time_to_target_is_the_first_point_at_or_below_it(self):
        history = FULL_RUNS[0].history
        self.assertEqual(report.time_to_target(history, 180), {"words": 2e6, "train_seconds": 120})
        self.assertEqual(report.time_to_target(history, 300), {"words": 2e6, "train_seconds": 120})
        self.assertIsNone(report.time_to_target(history, 150))

    def test_time_to_target_table(self):
        self.assertEqual(
            report.time_to_target_table(FULL_RUNS)[2:],
            [
                "| tbptt | 0 | 2 | 2.00M | 2.00M | not reached | 2.0 | 2.0 | not reached |",
                "| windows_reset | 1 | 2 | 1.00M | not reached | not reached | 1.5 | not reached "
                "| not reached |",
            ],
        )

    def test_report_and_pngs(self):
        directory = self.create_tempdir().full_path
        path = os.path.join(directory, report.FULL_REPORT)
        for x, name in report.FULL_PNGS.items():
            report.plot_full_curves(FULL_RUNS, os.path.join(directory, name), x, "by hand")
        report.write_full_report(path, FULL_RUNS, "Setup: by hand.")
        with open(path) as f:
            text = f.read()
        self.assertStartsWith(text, "# Why backpropagate through time? All of PTB\n")
        self.assertIn("![validation perplexity against words](full_scale_words.png)", text)
        self.assertIn("\n| windows_reset | 1 | 20 | no | 2 | 251.0 | 250.0 | 240.0 | 239.0 |", text)
        self.assertCountEqual(
            os.listdir(directory), [report.FULL_REPORT, *report.FULL_PNGS.values()]
        )


if __name__ == "__main__":
    absltest.main()
