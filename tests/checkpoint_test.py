import contextlib
import glob
import os
import subprocess

import helpers
import tensorflow as tf

from ptb_rnn import files
from ptb_rnn.training import steps
from ptb_rnn.training.checkpoint import RunCheckpoints
from ptb_rnn.training.epoch import EpochState
from ptb_rnn.training.history import History


def tiny_checkpoints(directory: str):
    """A tiny model, its optimizer, and RunCheckpoints in directory."""
    model = helpers.tiny_model(batch_size=2, seed=0)
    optimizer = steps.make_optimizer(model.config)
    optimizer.build(model.trainable_variables)
    return model, RunCheckpoints(directory, model, optimizer, batch_size=2)


@contextlib.contextmanager
def small_filesystem(directory: str, kilobytes: int):
    """A tmpfs of that size mounted on directory, or None where mounting is refused."""
    os.makedirs(directory)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", directory],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", directory], check=True)


def fill(directory: str) -> str:
    """Writes a file until the file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"x" * 1024)
    return path


class RunCheckpointsTest(tf.test.TestCase):
    def test_restore_gives_back_what_was_saved(self):
        directory = self.create_tempdir().full_path
        model, checkpoints = tiny_checkpoints(directory)
        lstm_state = tuple((tf.fill([2, 6], 0.5), tf.fill([2, 6], -0.5)) for _ in range(2))
        history = History({"num_steps": 20}, {"carry_state": True})
        history.add_epoch(1.0, 300.0, 200.0, 5000.0, 929580, 60.0, 55.0)
        saved_weights = [w.numpy() for w in model.weights]
        checkpoints.save(1, EpochState(lstm_state, 7, 123.5, 140, 2.5), history)
        self.assertEqual(checkpoints.last_saved, (1, 7))

        model.weights[0].assign(tf.zeros_like(model.weights[0]))
        path, epoch, epoch_state, restored = RunCheckpoints(
            directory, model, checkpoints_optimizer(model), batch_size=2
        ).restore()
        self.assertEqual((path, epoch), (f"{directory}/ckpt-1", 1))
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
        model, checkpoints = tiny_checkpoints(directory)
        for _ in range(2):
            checkpoints.save(0, EpochState(model.zero_state(2), 5), History({}, {}))
        self.assertEqual(checkpoints.saved, [f"{directory}/ckpt-1"])


def checkpoints_optimizer(model):
    optimizer = steps.make_optimizer(model.config)
    optimizer.build(model.trainable_variables)
    return optimizer


class DamagedCheckpointTest(tf.test.TestCase):
    """The newest checkpoint damaged: the one before it is restored, completely."""

    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        self.model, checkpoints = tiny_checkpoints(self.directory)
        self.weights_at_step_1 = [w.numpy() for w in self.model.weights]
        checkpoints.save(0, EpochState(self.model.zero_state(2), 1), History({}, {}))
        for w in self.model.trainable_weights:
            w.assign(w + 1.0)
        checkpoints.save(0, EpochState(self.model.zero_state(2), 2), History({}, {}))
        self.newest = f"{self.directory}/ckpt-2"

    def assert_restores_step_1(self):
        for w in self.model.trainable_weights:
            w.assign(tf.fill(w.shape, 7.0))
        _, checkpoints = (
            self.model,
            RunCheckpoints(
                self.directory, self.model, checkpoints_optimizer(self.model), batch_size=2
            ),
        )
        path, _, epoch_state, _ = checkpoints.restore()
        self.assertEqual((path, epoch_state.step), (f"{self.directory}/ckpt-1", 1))
        for actual, expected in zip(self.model.weights, self.weights_at_step_1):
            self.assertAllEqual(actual, expected)

    def test_a_truncated_data_file(self):
        (data,) = glob.glob(f"{self.newest}.data-*")
        with open(data, "r+b") as f:
            f.truncate(os.path.getsize(data) // 2)
        with self.assertLogs(level="WARNING") as logs:
            self.assert_restores_step_1()
        self.assertIn(
            f"Skipping checkpoint {self.newest}, which cannot be restored", logs.output[0]
        )

    def test_an_empty_index_file(self):
        open(f"{self.newest}.index", "w").close()
        self.assert_restores_step_1()

    def test_the_newest_checkpoint_missing(self):
        for path in glob.glob(f"{self.newest}.*"):
            os.remove(path)
        self.assert_restores_step_1()

    def test_an_empty_checkpoint_state_file_still_finds_both(self):
        open(os.path.join(self.directory, "checkpoint"), "w").close()
        _, checkpoints = tiny_checkpoints(self.directory)
        self.assertEqual(checkpoints.saved, [self.newest, f"{self.directory}/ckpt-1"])

    def test_none_restores_is_a_workdir_error(self):
        for path in glob.glob(f"{self.directory}/ckpt-*.index"):
            open(path, "w").close()
        with self.assertRaisesRegex(
            files.WorkdirError,
            f"^no checkpoint in {self.directory} can be restored \\(ckpt-2: .*; ckpt-1: .*\\); "
            "pass --restart",
        ):
            tiny_checkpoints(self.directory)[1].restore()


class FullDiskTest(tf.test.TestCase):
    def test_a_failed_save_keeps_the_previous_latest_and_leaves_no_temporary(self):
        directory = os.path.join(self.create_tempdir().full_path, "small")
        with small_filesystem(directory, kilobytes=200) as mounted:
            if not mounted:
                self.skipTest("mounting a tmpfs is not allowed here")
            model, checkpoints = tiny_checkpoints(os.path.join(directory, "checkpoints"))
            checkpoints.save(0, EpochState(model.zero_state(2), 1), History({}, {}))
            filler = fill(directory)
            with self.assertRaisesRegex(
                files.WorkdirError,
                f"^cannot save a checkpoint in {directory}/checkpoints: .*No space left on "
                f"device.*; the latest checkpoint is still {directory}/checkpoints/ckpt-1: ",
            ):
                checkpoints.save(0, EpochState(model.zero_state(2), 2), History({}, {}))
            self.assertEqual(glob.glob(f"{directory}/checkpoints/*_temp*"), [])
            self.assertEqual(checkpoints.saved, [f"{directory}/checkpoints/ckpt-1"])
            os.remove(filler)
            checkpoints.save(0, EpochState(model.zero_state(2), 2), History({}, {}))
            _, _, epoch_state, _ = checkpoints.restore()
            self.assertEqual(epoch_state.step, 2)


if __name__ == "__main__":
    tf.test.main()
