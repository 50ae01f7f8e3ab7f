import numpy as np
from absl.testing import absltest

from ptb_rnn import reader, truncation
from ptb_rnn.config import ConfigError, get_config


class ScheduleTest(absltest.TestCase):
    def test_parse(self):
        self.assertEqual(truncation.parse_schedule("1,2,5"), ((1, 2, 5), False))
        self.assertEqual(truncation.parse_schedule("ramp:1,20"), ((1, 20), True))
        with self.assertRaisesRegex(ConfigError, "cannot read truncation schedule 'a,b'"):
            truncation.parse_schedule("a,b")
        with self.assertRaisesRegex(ConfigError, "at least 1"):
            truncation.Truncation(schedule=(1, 0))

    def test_per_epoch_values_and_the_last_repeats(self):
        schedule = truncation.Truncation(schedule=(1, 2, 5))
        # batch_len 12: 11 columns have a next word.
        self.assertEqual(schedule.window_lengths(0, 4, 12, 20), [1] * 11)
        self.assertEqual(schedule.window_lengths(1, 4, 12, 20), [2] * 5)  # column 10 left out
        self.assertEqual(schedule.window_lengths(3, 4, 12, 20), [5, 5])
        self.assertEqual(truncation.TBPTT.window_lengths(0, 4, 12, 3), [3, 3, 3])

    def test_ramp_changes_inside_an_epoch(self):
        ramp = truncation.Truncation(schedule=(1, 2, 4), ramp=True)
        # One epoch of 13 usable columns in 3 stages of 13/3 columns: a window starting
        # at columns 0-4 has length 1, at 5-8 length 2, at 9 or later length 4.
        self.assertEqual(ramp.window_lengths(0, 1, 14, 20), [1, 1, 1, 1, 1, 2, 2, 4])

    def test_a_ramp_over_the_first_epoch_then_the_last_value(self):
        ramp = truncation.Truncation(schedule=(1, 2, 4), ramp=True, ramp_epochs=1)
        # Epoch 1 of a 3-epoch run ramps as a 1-epoch run would; epoch 2 is all 4s.
        self.assertEqual(ramp.window_lengths(0, 3, 14, 20), [1, 1, 1, 1, 1, 2, 2, 4])
        self.assertEqual(ramp.window_lengths(1, 3, 14, 20), [4, 4, 4])

    def test_every_word_once_across_a_change(self):
        data = np.arange(3 * 40)
        batches = reader.ptb_producer(data, batch_size=3, num_steps=1)
        ramp = truncation.Truncation(schedule=(1, 3, 5), ramp=True)
        lengths = ramp.window_lengths(0, 1, batches.batch_len, 1)
        self.assertEqual(sorted(set(lengths)), [1, 3, 5])
        columns, start = [], 0
        for k in lengths:
            x, y = batches.window_at(start, k)
            np.testing.assert_array_equal(y, x + 1)  # targets are the next words
            columns.extend(x[0])
            start += k
        # Row 0 is words 0..39: every word read once, in order; only the tail is left out.
        np.testing.assert_array_equal(columns, np.arange(len(columns)))
        self.assertLess(39 - len(columns), lengths[-1])


class RunLengthTest(absltest.TestCase):
    def test_only_a_ramp_over_the_whole_run_depends_on_its_length(self):
        ramps_over_the_run = {
            name for name, mode in truncation.MODES.items() if mode.truncation.depends_on_run_length
        }
        self.assertEqual(ramps_over_the_run, {"curriculum"})

    def test_the_first_epochs_windows_change_with_the_length_only_then(self):
        # 101 columns: 100 words to predict per row, in each mode's windows.
        for name, mode in truncation.MODES.items():
            num_steps = mode.apply(get_config("small")).num_steps
            one, two = (
                mode.truncation.window_lengths(0, num_epochs, 101, num_steps)
                for num_epochs in (1, 2)
            )
            self.assertEqual(one != two, mode.truncation.depends_on_run_length, name)


class ModeTest(absltest.TestCase):
    def test_a_mode_sets_the_window_length_and_keeps_the_rest(self):
        config = get_config("small")
        stateless = truncation.get_mode("stateless_one_step")
        self.assertEqual(stateless.apply(config).num_steps, 1)
        self.assertEqual(stateless.apply(config).hidden_size, 200)
        self.assertFalse(stateless.truncation.carry_state)
        self.assertIs(truncation.get_mode("curriculum").apply(config), config)

    def test_unknown_mode(self):
        with self.assertRaisesRegex(ConfigError, "unknown mode 'bptt'; choose one of tbptt, "):
            truncation.get_mode("bptt")


if __name__ == "__main__":
    absltest.main()
