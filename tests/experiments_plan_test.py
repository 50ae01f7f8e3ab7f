"""The grid's runs: one RunSpec and work directory per mode and learning rate."""

from absl.testing import absltest

from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.experiments import plan
from ptb_rnn.spec import RunSpec
from ptb_rnn.truncation import TBPTT, Truncation


class GridPointsTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        base = RunSpec(get_config("small"), seed=3, windows_per_call=7)
        self.points = plan.grid_points(
            base, ["tbptt_k5", "stateless_one_step"], [0.5, 2.0], epochs=3, runs_dir="out/runs"
        )

    def test_every_mode_at_every_learning_rate_mode_by_mode(self):
        self.assertEqual(
            [(p.mode, p.learning_rate, p.workdir) for p in self.points],
            [
                ("tbptt_k5", 0.5, "out/runs/tbptt_k5/lr_0.5"),
                ("tbptt_k5", 2.0, "out/runs/tbptt_k5/lr_2"),
                ("stateless_one_step", 0.5, "out/runs/stateless_one_step/lr_0.5"),
                ("stateless_one_step", 2.0, "out/runs/stateless_one_step/lr_2"),
            ],
        )

    def test_spec_has_the_modes_truncation_and_a_constant_learning_rate(self):
        spec = self.points[3].spec
        self.assertEqual(spec.truncation, Truncation(carry_state=False))
        self.assertEqual(
            spec.config,
            get_config("small", learning_rate=2.0, num_steps=1, max_epoch=3, max_max_epoch=3),
        )
        self.assertEqual(self.points[0].spec.truncation, TBPTT)
        self.assertEqual(self.points[0].spec.config.num_steps, 5)

    def test_computation_settings_come_from_the_base_spec(self):
        self.assertEqual({(p.spec.seed, p.spec.windows_per_call) for p in self.points}, {(3, 7)})

    def test_unknown_mode_is_refused(self):
        with self.assertRaisesRegex(ConfigError, "unknown mode 'tbtt'; choose one of tbptt, "):
            plan.grid_points(RunSpec(get_config("small")), ["tbtt"], [1.0], 2, "runs")


class FullPointsTest(absltest.TestCase):
    def test_each_mode_at_its_rate_on_the_full_schedule_seed_1_for_some(self):
        base = RunSpec(get_config("small"), seed=3, windows_per_call=7)
        points = plan.full_points(
            base,
            {"tbptt": 2.0, "stateless_one_step": 1.0},
            ["tbptt", "stateless_one_step"],
            ["tbptt"],
            "out/full",
        )
        self.assertEqual(
            [(p.mode, p.learning_rate, p.spec.seed, p.workdir) for p in points],
            [
                ("tbptt", 2.0, 0, "out/full/tbptt/seed_0"),
                ("tbptt", 2.0, 1, "out/full/tbptt/seed_1"),
                ("stateless_one_step", 1.0, 0, "out/full/stateless_one_step/seed_0"),
            ],
        )
        spec = points[2].spec
        self.assertEqual(
            spec.config,
            get_config("small", learning_rate=1.0, num_steps=1, max_epoch=2, max_max_epoch=6),
        )
        self.assertEqual(spec.truncation, Truncation(carry_state=False))
        self.assertEqual((spec.curve_points_per_epoch, spec.windows_per_call), (4, 7))


if __name__ == "__main__":
    absltest.main()
