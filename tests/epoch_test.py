import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.training import epoch, steps


class StopHere(Exception):
    pass


class CallsTest(tf.test.TestCase):
    def test_calls_split_at_length_changes_and_at_multiples_of_break_every(self):
        lengths = [1, 1, 1, 2, 2, 2, 2, 2]
        self.assertEqual(
            list(epoch.calls(lengths, windows_per_call=3)),
            [(0, 3, 1), (3, 6, 2), (6, 8, 2)],
        )
        self.assertEqual(
            list(epoch.calls(lengths, windows_per_call=3, break_every=4)),
            [(0, 3, 1), (3, 4, 2), (4, 7, 2), (7, 8, 2)],
        )

    def test_a_resumed_epoch_is_cut_into_the_same_calls(self):
        lengths = [5] * 10
        uninterrupted = list(epoch.calls(lengths, 3, break_every=5))
        self.assertEqual(list(epoch.calls(lengths, 3, first=5, break_every=5)), uninterrupted[2:])


class RunEpochTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.batches = reader.ptb_producer(np.arange(123) % 20, batch_size=3, num_steps=4)
        self.assertEqual(self.batches.epoch_size, 10)

    def train_model(self):
        model = helpers.tiny_model(batch_size=3, seed=1, keep_prob=0.5)
        return model, steps.make_train_steps(model, steps.make_optimizer(model.config))

    def test_several_windows_per_call_equal_one_window_per_call(self):
        weights = []
        for windows_per_call in (1, self.batches.epoch_size):
            model, train_steps = self.train_model()
            epoch.run_epoch(train_steps, model, self.batches, windows_per_call=windows_per_call)
            weights.append([w.numpy() for w in model.weights])
        for one, many in zip(*weights):
            self.assertAllClose(one, many, rtol=1e-5, atol=1e-6)

    def test_after_call_sees_each_call_with_its_losses(self):
        model, _ = self.train_model()
        seen = []
        epoch.run_epoch(
            steps.make_eval_steps(model),
            model,
            self.batches,
            windows_per_call=3,
            break_every=5,
            after_call=lambda state, losses, num_steps: seen.append(
                (state.step, len(losses), num_steps)
            ),
        )
        self.assertEqual(seen, [(3, 3, 4), (5, 2, 4), (8, 3, 4), (10, 2, 4)])

    def test_epoch_continued_from_its_state_ends_as_an_uninterrupted_one(self):
        model, train_steps = self.train_model()
        uninterrupted = epoch.run_epoch(train_steps, model, self.batches, windows_per_call=5)
        expected_weights = [w.numpy() for w in model.weights]

        def stop_at_step_5(epoch_state, losses, num_steps):
            if epoch_state.step == 5:
                raise StopHere

        model, train_steps = self.train_model()
        epoch_state = epoch.EpochState(model.zero_state(3))
        with self.assertRaises(StopHere):
            epoch.run_epoch(
                train_steps,
                model,
                self.batches,
                windows_per_call=5,
                epoch_state=epoch_state,
                after_call=stop_at_step_5,
            )
        self.assertEqual((epoch_state.step, epoch_state.iters), (5, 20))
        continued = epoch.run_epoch(
            train_steps, model, self.batches, windows_per_call=5, epoch_state=epoch_state
        )
        self.assertEqual(continued[0], uninterrupted[0])  # the perplexity
        for actual, expected in zip(model.weights, expected_weights):
            self.assertAllEqual(actual, expected)


if __name__ == "__main__":
    tf.test.main()
