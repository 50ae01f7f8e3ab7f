import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn.training import callbacks


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


if __name__ == "__main__":
    tf.test.main()
