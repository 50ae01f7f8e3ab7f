import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.training import epoch, steps


class CallsTest(tf.test.TestCase):
    def test_calls_split_at_length_changes(self):
        lengths = [1, 1, 1, 2, 2, 2, 2, 2]
        self.assertEqual(
            list(epoch.calls(lengths, windows_per_call=3)),
            [(0, 3, 1), (3, 6, 2), (6, 8, 2)],
        )

    def test_a_resumed_epoch_is_cut_into_the_same_calls(self):
        lengths = [5] * 10
        uninterrupted = list(epoch.calls(lengths, 3))
        self.assertEqual(list(epoch.calls(lengths, 3, first=6)), uninterrupted[2:])


class WindowLoopTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.batches = reader.ptb_producer(np.arange(123) % 20, batch_size=3, num_steps=4)
        self.assertEqual(self.batches.epoch_size, 10)

    def train_model(self):
        model = helpers.tiny_model(batch_size=3, seed=1, keep_prob=0.5)
        return model, steps.make_train_steps(model, steps.make_optimizer(model.config))

    def run_all(self, loop, epoch_state, stops=()):
        """Runs the loop to the epoch's end in pieces ending at stops; returns what each
        call yielded, with the step it ended at."""
        seen = []
        for until in [*stops, None]:
            for losses, num_steps in loop.run_calls(epoch_state, until):
                seen.append((epoch_state.step, len(losses), num_steps))
        return seen

    def test_several_windows_per_call_equal_one_window_per_call(self):
        weights = []
        for windows_per_call in (1, self.batches.epoch_size):
            model, train_steps = self.train_model()
            loop = epoch.WindowLoop(train_steps, self.batches, windows_per_call=windows_per_call)
            self.run_all(loop, epoch.EpochState(model.zero_state(3)))
            weights.append([w.numpy() for w in model.weights])
        for one, many in zip(*weights):
            self.assertAllClose(one, many, rtol=1e-5, atol=1e-6)

    def test_hands_back_after_each_call_and_stops_where_asked(self):
        model, _ = self.train_model()
        loop = epoch.WindowLoop(steps.make_eval_steps(model), self.batches, windows_per_call=3)
        epoch_state = epoch.EpochState(model.zero_state(3))
        seen = self.run_all(loop, epoch_state, stops=[5])
        self.assertEqual(seen, [(3, 3, 4), (5, 2, 4), (8, 3, 4), (10, 2, 4)])
        self.assertEqual((epoch_state.step, epoch_state.iters), (10, 40))

    def test_epoch_continued_from_its_state_ends_as_an_uninterrupted_one(self):
        model, train_steps = self.train_model()
        uninterrupted = epoch.EpochState(model.zero_state(3))
        self.run_all(epoch.WindowLoop(train_steps, self.batches, windows_per_call=5), uninterrupted)
        expected_weights = [w.numpy() for w in model.weights]

        model, train_steps = self.train_model()
        epoch_state = epoch.EpochState(model.zero_state(3))
        loop = epoch.WindowLoop(train_steps, self.batches, windows_per_call=5)
        for _ in loop.run_calls(epoch_state):
            break  # the caller stops after the first call, e.g. on a signal
        self.assertEqual((epoch_state.step, epoch_state.iters), (5, 20))
        continued = epoch.WindowLoop(train_steps, self.batches, windows_per_call=5)
        self.run_all(continued, epoch_state)
        self.assertEqual(epoch_state.perplexity, uninterrupted.perplexity)
        for actual, expected in zip(model.weights, expected_weights):
            self.assertAllEqual(actual, expected)

    def test_run_epoch_gives_the_perplexity_of_every_window(self):
        model, _ = self.train_model()
        eval_steps = steps.make_eval_steps(model)
        epoch_state = epoch.EpochState(model.zero_state(3))
        self.run_all(epoch.WindowLoop(eval_steps, self.batches), epoch_state)
        perplexity, _ = epoch.run_epoch(eval_steps, model, self.batches)
        self.assertEqual(perplexity, epoch_state.perplexity)


if __name__ == "__main__":
    tf.test.main()
