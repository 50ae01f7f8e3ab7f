"""layout.md and its PNGs, from searches and speeds whose numbers are set by hand."""

import os

import helpers
from absl.testing import absltest

from ptb_rnn.experiments import layout_report
from ptb_rnn.experiments.layout import Search, Setting
from ptb_rnn.experiments.results import Run

# Batch size 1 at 150 words/s, 4 at 600; at the matmul rate both would run 1,000 words/s
# (1 GFLOP/s over 1M FLOP per word).
MEASURED = {
    "machine": {"cpu": "AMD EPYC", "cpu_family": 25},
    "matmul_gflops": 1.0,
    "speeds": [
        {"batch_size": b, "num_steps": 20, "flops_per_word": 1e6, "words_per_second": rates}
        for b, rates in ((1, [100, 200, 150]), (4, [500, 700, 600]))
    ],
}
BY_SWEEP = {
    "batch_size": [Setting(1, 20), Setting(4, 20)],
    "num_steps": [Setting(20, 20)],
}


def picked(setting, learning_rate, valid, train_seconds, curve):
    """A finished run at learning_rate (1000 words, valid / valid - 10 carried) whose
    training took train_seconds, with curve points of (words, train_seconds, carried)."""
    history = helpers.finished_history(valid)
    history.train_seconds = [train_seconds]
    history.curve = [
        {"words": w, "train_seconds": t, "carried": p, "trained_state": p} for w, t, p in curve
    ]
    return Run(setting.name, learning_rate, history)


SEARCHES = [
    Search(
        Setting(1, 20),
        [
            Run("batch_1_steps_20", 0.25, helpers.finished_history(300.0)),
            picked(Setting(1, 20), 0.5, 280.0, 600.0, [(100_000, 300, 500), (200_000, 600, 400)]),
            Run("batch_1_steps_20", 1.0, None),
        ],
    ),
    Search(Setting(4, 20), [Run("batch_4_steps_20", 1.0, None)]),
    Search(
        Setting(20, 20),
        [picked(Setting(20, 20), 1.0, 250.0, 120.0, [(120_000, 60, 450), (220_000, 120, 350)])],
        finished=False,
    ),
]


class SpeedTableTest(absltest.TestCase):
    def test_median_range_ratio_updates_and_share_of_the_matmul_rate(self):
        self.assertEqual(
            layout_report.speed_table(BY_SWEEP["batch_size"], "batch_size", MEASURED),
            [
                "| batch_size | words/s | slowest–fastest round | vs batch_size 1 | updates/s "
                "| of the matmul rate |",
                "|---|---|---|---|---|---|",
                "| 1 | 150 | 100–200 | 1.00x | 7.5 | 15% |",
                "| 4 | 600 | 500–700 | 4.00x | 7.5 | 60% |",
            ],
        )

    def test_a_setting_not_measured_shows_dashes(self):
        self.assertEqual(
            layout_report.speed_table(BY_SWEEP["num_steps"], "num_steps", MEASURED)[2:],
            ["| 20 | – | – | – | – | – |"],
        )


class LearningTablesTest(absltest.TestCase):
    def test_each_settings_pick_where_it_lies_and_every_rate_tried(self):
        self.assertEqual(
            layout_report.learning_table(SEARCHES)[2:],
            [
                "| 1 | 20 | 0.5 | inside | 0.25: 300.0, **0.5: 280.0**, 1: diverged | 280.0 "
                "| 270.0 | 50 | 1000 | 10.0 |",
                "| 4 | 20 | – | none | 1: diverged | – | – | – | – | – |",
                "| 20 | 20 | 1 | lowest edge (unfinished) | **1: 250.0** | 250.0 | 240.0 | 2 "
                "| 1000 | 2.0 |",
            ],
        )

    def test_curve_points_under_their_median_words(self):
        self.assertEqual(
            layout_report.curve_table(SEARCHES),
            [
                "| batch_size | num_steps | lr | 0.110M words | 0.210M words |",
                "|---|---|---|---|---|",
                "| 1 | 20 | 0.5 | 500.0 | 400.0 |",
                "| 20 | 20 | 1 | 450.0 | 350.0 |",
            ],
        )

    def test_at_the_time_the_fastest_pick_took_for_its_words(self):
        self.assertEqual(layout_report.equal_time(SEARCHES), 120.0)
        self.assertEqual(
            layout_report.time_table(SEARCHES),
            [
                "| batch_size | num_steps | lr | train min for all words | valid by 2.0 min "
                "| at words |",
                "|---|---|---|---|---|---|",
                "| 1 | 20 | 0.5 | 10.0 | no point yet | – |",
                "| 20 | 20 | 1 | 2.0 | 350.0 | 220000 |",
            ],
        )


class WriteReportTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        self.path = os.path.join(self.directory, layout_report.REPORT)

    def read(self):
        with open(self.path) as f:
            return f.read()

    def test_sections_in_order_with_the_speeds(self):
        layout_report.write_report(self.path, BY_SWEEP, SEARCHES, MEASURED, "Setup: by hand.")
        text = self.read()
        self.assertStartsWith(text, "# Batch size and time steps, measured\n\nSetup: by hand.\n")
        headings = [line for line in text.splitlines() if line.startswith("## ")]
        self.assertEqual(
            headings,
            ["## Training speed", "## Learning at equal words", "## Learning at equal time"],
        )
        self.assertIn("By batch_size (num_steps 20):\n", text)
        self.assertIn(
            "1.00M FLOP per word) ran at the machine's 4096³ float32 matmul rate, 1 GFLOP/s.", text
        )
        for name in (layout_report.SPEED_PNG, *layout_report.LEARNING_PNGS.values()):
            self.assertIn(f"]({name})", text)
        self.assertEqual(os.listdir(self.directory), [layout_report.REPORT])

    def test_no_speeds_no_speed_section(self):
        layout_report.write_report(self.path, BY_SWEEP, SEARCHES, None, "Setup: by hand.")
        text = self.read()
        self.assertNotIn("## Training speed", text)
        self.assertNotIn(layout_report.SPEED_PNG, text)


class PlotsTest(absltest.TestCase):
    def test_each_plot_writes_a_png_and_nothing_else(self):
        directory = self.create_tempdir().full_path
        paths = {name: os.path.join(directory, name) for name in ("speed.png", "words.png")}
        layout_report.plot_speeds(BY_SWEEP, MEASURED, paths["speed.png"], "by hand")
        layout_report.plot_learning(BY_SWEEP, SEARCHES, paths["words.png"], "words", "by hand")
        for path in paths.values():
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertCountEqual(os.listdir(directory), list(paths))


if __name__ == "__main__":
    absltest.main()
