import contextlib
import io

import helpers
import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from ptb_rnn.training import callbacks
from ptb_rnn.training.epoch import EpochState
from ptb_rnn.training.history import History


class CheckDivergedTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.model = helpers.tiny_model()

    def test_finite_losses_and_weights_pass(self):
        self.assertIsNone(callbacks.check_diverged(np.array([46.0, 45.5]), 20, self.model))

    def test_first_nan_loss_is_named(self):
        self.assertEqual(
            callbacks.check_diverged(np.array([46.0, np.nan, np.inf]), 20, self.model),
            (1, "the loss is nan nats over 20 steps"),
        )

    def test_a_loss_whose_perplexity_overflows_counts_as_diverged(self):
        # 710 nats per step: exp(710) is beyond the largest float64 (about exp(709.78)).
        self.assertEqual(
            callbacks.check_diverged(np.array([2 * 709.0, 2 * 710.0]), 2, self.model),
            (1, "the loss is 1420 nats over 2 steps"),
        )

    def test_non_finite_weights_are_named(self):
        kernel = self.model.softmax.kernel
        kernel.assign(tf.fill(kernel.shape, np.inf))
        self.assertEqual(
            callbacks.check_diverged(np.array([1.0, 2.0]), 1, self.model),
            (1, f"{kernel.path} became NaN or infinite"),
        )


class CallbackListTest(tf.test.TestCase):
    def test_calls_in_order_and_reports_the_first_saved_thing(self):
        order = []

        class Named(callbacks.Callback):
            def __init__(self, name, saved=None):
                self.name, self.saved = name, saved

            def after_epoch(self, progress):
                order.append(self.name)

            def on_stop(self, progress):
                return self.saved

        hooks = callbacks.CallbackList([Named("a"), Named("b", "saved in b"), Named("c", "c")])
        hooks.after_epoch(None)
        self.assertEqual(order, ["a", "b", "c"])
        self.assertEqual(hooks.on_stop(None), "saved in b")


class LogTenthsTest(tf.test.TestCase):
    def test_logs_each_tenth_crossed_once_and_again_for_a_new_pass(self):
        report = callbacks.log_tenths("Epoch: 3 validating")
        with self.assertLogs("absl", "INFO") as logs:
            for done in (5, 9, 10, 31, 32, 99, 100, 40, 100):  # 100 in all, then a new pass
                report(done, 100)
        self.assertEqual(
            [record.getMessage() for record in logs.records],
            ["Epoch: 3 validating: 0.1 done", "Epoch: 3 validating: 0.3 done"]
            + ["Epoch: 3 validating: 0.9 done", "Epoch: 3 validating: 0.4 done"],
        )


class SummariesTest(tf.test.TestCase):
    """An epoch of 54 windows of 2 steps and 4 rows (8 words each), in calls of 10 windows,
    each window's loss 2 ln 3 (perplexity 3), at 1000 words/s."""

    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        summaries = callbacks.Summaries(self.directory, batch_size=4, every_windows=20)
        history = History(config={}, truncation={})
        progress = callbacks.Progress(0, EpochState(()), history, 1, epoch_size=54)
        progress.learning_rate = 0.5
        for step in (10, 20, 30, 40, 50, 54):
            windows = step - progress.epoch_state.step
            state = progress.epoch_state
            state.step, state.iters = step, 2 * step
            state.costs, state.seconds = state.iters * np.log(3.0), state.iters * 4 / 1000
            summaries.after_call(progress, np.full(windows, 2 * np.log(3.0)), 2)
        history.add_epoch(0.5, 3.0, 7.0, 1000.0, 432, 1.0, 1.0)
        summaries.after_epoch(progress)
        history.eval = {
            "carried": {"valid": 6.0, "test": 5.0},
            "trained_state": {"valid": 6.5, "test": 5.5},
        }
        summaries.after_evaluation(progress)
        self.events = event_accumulator.EventAccumulator(self.directory)
        self.events.Reload()

    def steps_and_values(self, tag):
        return [(event.step, event.value) for event in self.events.Scalars(tag)]

    def test_every_tag_is_a_scalar(self):
        self.assertEqual(
            sorted(self.events.Tags()["scalars"]),
            [
                "final/test_perplexity_carried",
                "final/test_perplexity_trained_state",
                "final/valid_perplexity_carried",
                "final/valid_perplexity_trained_state",
                "learning_rate",
                "train/perplexity",
                "train/words_per_second",
                "valid/perplexity",
            ],
        )

    def test_training_every_20_windows_and_at_the_epoch_end_against_words(self):
        # Windows 20, 40 and 54: 160, 320 and 432 words.
        for tag, value in (
            ("train/perplexity", 3.0),
            ("train/words_per_second", 1000.0),
            ("learning_rate", 0.5),
        ):
            expected = [(160, value), (320, value), (432, value)]
            self.assertAllClose(self.steps_and_values(tag), expected)

    def test_validation_at_the_epoch_end_and_the_final_evaluation(self):
        self.assertEqual(self.steps_and_values("valid/perplexity"), [(432, 7.0)])
        self.assertEqual(self.steps_and_values("final/test_perplexity_carried"), [(432, 5.0)])
        self.assertEqual(
            self.steps_and_values("final/valid_perplexity_trained_state"), [(432, 6.5)]
        )


class ProgressLogTest(tf.test.TestCase):
    def test_in_a_log_file_only_the_tutorials_line(self):
        # 54 windows of 2 steps and 4 rows (432 words) in 0.432 s, perplexity 3.
        state = EpochState((), step=54, costs=108 * np.log(3.0), iters=108, seconds=0.432)
        progress = callbacks.Progress(0, state, History({}, {}), 1, epoch_size=54)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), self.assertLogs("absl", "INFO") as logs:
            callbacks.ProgressLog(batch_size=4).after_call(progress, np.zeros(54), 2)
        self.assertEqual(stdout.getvalue(), "")  # no progress bar
        self.assertEqual(
            [record.getMessage() for record in logs.records],
            ["1.000 perplexity: 3.000 speed: 1000 wps"],
        )


if __name__ == "__main__":
    tf.test.main()
