import dataclasses

from absl.testing import absltest

from ptb_rnn import config


class ConfigTest(absltest.TestCase):
    FIELDS = (
        "init_scale",
        "learning_rate",
        "max_grad_norm",
        "num_layers",
        "num_steps",
        "hidden_size",
        "max_epoch",
        "max_max_epoch",
        "keep_prob",
        "lr_decay",
        "batch_size",
        "vocab_size",
    )
    # Copied from the tutorial's SmallConfig, MediumConfig, LargeConfig and TestConfig.
    TUTORIAL = {
        "small": (0.1, 1.0, 5, 2, 20, 200, 4, 13, 1.0, 0.5, 20, 10000),
        "medium": (0.05, 1.0, 5, 2, 35, 650, 6, 39, 0.5, 0.8, 20, 10000),
        "large": (0.04, 1.0, 10, 2, 35, 1500, 14, 55, 0.35, 1 / 1.15, 20, 10000),
        "test": (0.1, 1.0, 1, 1, 2, 2, 1, 1, 1.0, 0.5, 20, 10000),
    }

    def test_presets_equal_the_tutorial(self):
        self.assertEqual(tuple(f.name for f in dataclasses.fields(config.Config)), self.FIELDS)
        for name, values in self.TUTORIAL.items():
            self.assertEqual(dataclasses.astuple(config.CONFIGS[name]), values, name)

    def test_small_learning_rate_schedule(self):
        small = config.get_config("small")
        rates = [small.learning_rate_at(epoch) for epoch in range(7)]
        self.assertEqual(rates, [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125])

    def test_override(self):
        self.assertEqual(config.get_config("small", num_steps=35).num_steps, 35)

    def test_bad_values(self):
        with self.assertRaisesRegex(config.ConfigError, "unknown config 'huge'"):
            config.get_config("huge")
        with self.assertRaisesRegex(config.ConfigError, "num_steps must be positive"):
            config.get_config("small", num_steps=0)
        with self.assertRaisesRegex(config.ConfigError, r"keep_prob must be in \(0, 1\]"):
            config.get_config("small", keep_prob=1.5)


if __name__ == "__main__":
    absltest.main()
