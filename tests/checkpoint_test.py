import helpers
import tensorflow as tf

from ptb_rnn import steps
from ptb_rnn.checkpoint import RunCheckpoints
from ptb_rnn.epoch import EpochState
from ptb_rnn.history import History


class RunCheckpointsTest(tf.test.TestCase):
    def test_restore_gives_back_what_was_saved(self):
        directory = self.create_tempdir().full_path
        model = helpers.tiny_model(batch_size=2, seed=0)
        optimizer = steps.make_optimizer(model.config)
        optimizer.build(model.trainable_variables)
        checkpoints = RunCheckpoints(directory, model, optimizer, batch_size=2)
        lstm_state = tuple((tf.fill([2, 6], 0.5), tf.fill([2, 6], -0.5)) for _ in range(2))
        history = History({"num_steps": 20}, {"carry_state": True})
        history.add_epoch(1.0, 300.0, 200.0, 5000.0, 929580, 60.0, 55.0)
        saved_weights = [w.numpy() for w in model.weights]
        checkpoints.save(1, EpochState(lstm_state, 7, 123.5, 140, 2.5), history)
        self.assertEqual(checkpoints.last_saved, (1, 7))

        model.softmax.kernel.assign(tf.zeros_like(model.softmax.kernel))
        epoch, epoch_state, restored = RunCheckpoints(
            directory, model, optimizer, batch_size=2
        ).restore()
        self.assertEqual(epoch, 1)
        self.assertEqual(
            (epoch_state.step, epoch_state.costs, epoch_state.iters, epoch_state.seconds),
            (7, 123.5, 140, 2.5),
        )
        self.assertAllEqual(epoch_state.lstm_state, lstm_state)
        self.assertEqual(restored, history)
        for actual, expected in zip(model.weights, saved_weights):
            self.assertAllEqual(actual, expected)

    def test_saving_the_same_place_twice_writes_one_checkpoint(self):
        directory = self.create_tempdir().full_path
        model = helpers.tiny_model(batch_size=2)
        optimizer = steps.make_optimizer(model.config)
        optimizer.build(model.trainable_variables)
        checkpoints = RunCheckpoints(directory, model, optimizer, batch_size=2)
        history = History({}, {})
        for _ in range(2):
            checkpoints.save(0, EpochState(model.zero_state(2), 5), history)
        self.assertEqual(checkpoints.latest, f"{directory}/ckpt-1")


if __name__ == "__main__":
    tf.test.main()
