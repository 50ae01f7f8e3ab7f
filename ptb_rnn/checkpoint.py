"""What a checkpoint holds, and saving and restoring it.

A checkpoint holds everything the rest of a run depends on: the model's variables (the
weights, and each dropout layer's seed-generator state, so that dropout draws the same
masks as it would have), the optimizer's (update count, learning rate), the LSTM state
carried into the next window, and as JSON the epoch, the step in it, the epoch's running
loss, and the history so far. `tf.train.CheckpointManager` writes a checkpoint under a
temporary name before pointing its `checkpoint` file at it, so a crash in the middle of
a save leaves the previous checkpoint the latest.
"""

import json

import keras
import tensorflow as tf

from ptb_rnn.epoch import EpochState
from ptb_rnn.history import History
from ptb_rnn.model import PTBModel

CHECKPOINTS_KEPT = 2


class _JsonState(tf.train.experimental.PythonState):
    """A JSON value saved in a checkpoint beside the tensors."""

    def __init__(self):
        self.value = None

    def serialize(self):
        return json.dumps(self.value)

    def deserialize(self, string_value):
        self.value = json.loads(string_value)


class RunCheckpoints:
    """Saves and restores a run in a directory of `tf.train.CheckpointManager` files."""

    def __init__(
        self,
        directory: str,
        model: PTBModel,
        optimizer: keras.optimizers.Optimizer,
        batch_size: int,
    ):
        self.directory = directory
        self._zero_state = model.zero_state(batch_size)
        self._lstm_state = [tf.Variable(t) for t in tf.nest.flatten(self._zero_state)]
        self._progress = _JsonState()
        self._checkpoint = tf.train.Checkpoint(
            model=list(model.variables),
            optimizer=list(optimizer.variables),
            lstm_state=self._lstm_state,
            progress=self._progress,
        )
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, directory, max_to_keep=CHECKPOINTS_KEPT
        )
        self.last_saved = None  # (epoch, step) of the latest checkpoint

    @property
    def latest(self) -> str | None:
        return self._manager.latest_checkpoint

    def save(self, epoch: int, epoch_state: EpochState, history: History) -> None:
        """Saves the run at (0-based) epoch, epoch_state.step windows into it."""
        if self.last_saved == (epoch, epoch_state.step):
            return
        for variable, value in zip(self._lstm_state, tf.nest.flatten(epoch_state.lstm_state)):
            variable.assign(value)
        self._progress.value = {
            "epoch": epoch,
            "step": epoch_state.step,
            "costs": epoch_state.costs,
            "iters": epoch_state.iters,
            "seconds": epoch_state.seconds,
            "results": history.to_json(),
        }
        self._manager.save()
        self.last_saved = (epoch, epoch_state.step)

    def restore(self) -> tuple[int, EpochState, History]:
        """Loads the latest checkpoint into the model and optimizer.

        Returns:
          (epoch, epoch_state, history) as they were saved.
        """
        self._checkpoint.restore(self.latest).assert_consumed()
        progress = self._progress.value
        lstm_state = tf.nest.pack_sequence_as(
            self._zero_state, [tf.identity(v) for v in self._lstm_state]
        )
        self.last_saved = (progress["epoch"], progress["step"])
        epoch_state = EpochState(
            lstm_state, progress["step"], progress["costs"], progress["iters"], progress["seconds"]
        )
        return progress["epoch"], epoch_state, History.from_json(progress["results"])
