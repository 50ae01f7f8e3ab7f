"""What a checkpoint holds, and saving and restoring it.

A checkpoint holds everything the rest of a run depends on: the model's variables (the
weights, and each dropout layer's seed-generator state, so that dropout draws the same
masks as it would have), the optimizer's (update count, learning rate), the LSTM state
carried into the next window, and as JSON the epoch, the step in it, the epoch's running
loss, and the history so far. `tf.train.CheckpointManager` writes a checkpoint under a
temporary name before pointing its `checkpoint` file at it, so a crash in the middle of
a save leaves the previous checkpoint the latest; a save that fails (a full disk) removes
its temporary files and says so.

Restoring tries the checkpoints newest first and takes the first that restores
completely: a damaged or missing latest checkpoint (a truncated file, a `checkpoint`
file naming one that is gone) costs the windows since the one before, not the run.
"""

import glob
import json
import os
import re
import shutil

import keras
import tensorflow as tf
from absl import logging

from ptb_rnn import files
from ptb_rnn.model.network import PTBModel
from ptb_rnn.training.epoch import EpochState
from ptb_rnn.training.history import History

CHECKPOINTS_KEPT = 2
PREFIX = "ckpt"  # CheckpointManager's: checkpoint n is ckpt-n.index and ckpt-n.data-*

# What a checkpoint that cannot be read raises while restoring, depending on the damage.
RESTORE_ERRORS = (tf.errors.OpError, AssertionError, ValueError, IndexError)


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
        _drop_damaged_state_file(directory)
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, directory, max_to_keep=CHECKPOINTS_KEPT, checkpoint_name=PREFIX
        )
        self.last_saved = None  # (epoch, step) of the latest checkpoint

    @property
    def saved(self) -> list[str]:
        """The checkpoints in the directory, newest first: those its `checkpoint` file
        lists and any other ckpt-n found there (e.g. if that file was damaged)."""
        found = [p.removesuffix(".index") for p in glob.glob(f"{self.directory}/{PREFIX}-*.index")]
        paths = {os.path.abspath(p) for p in [*self._manager.checkpoints, *found]}
        return sorted(paths, key=_number, reverse=True)

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
        try:
            self._manager.save()
        except tf.errors.OpError as e:
            for temporary in glob.glob(f"{self.directory}/{PREFIX}-*_temp"):
                shutil.rmtree(temporary, ignore_errors=True)
            raise files.WorkdirError(
                f"cannot save a checkpoint in {self.directory}: {_first_line(e.message)}; "
                f"the latest checkpoint is still {self._manager.latest_checkpoint}: fix that "
                "(e.g. free some disk space) and run the same command again to resume."
            ) from None
        self.last_saved = (epoch, epoch_state.step)

    def restore(self) -> tuple[str, int, EpochState, History]:
        """Loads the newest checkpoint that restores completely into the model and optimizer.

        A checkpoint that fails is skipped with a warning saying why; the next older one
        then overwrites every variable, so nothing of the failed one is left.

        Returns:
          (path, epoch, epoch_state, history): the checkpoint used, and the run's
          position as it was saved.

        Raises:
          files.WorkdirError: no checkpoint restores.
        """
        failures = []
        for path in self.saved:
            try:
                self._checkpoint.restore(path).assert_consumed()
            except RESTORE_ERRORS as e:
                reason = _first_line(getattr(e, "message", None) or str(e) or type(e).__name__)
                logging.warning(
                    "Skipping checkpoint %s, which cannot be restored: %s", path, reason
                )
                failures.append(f"{os.path.basename(path)}: {reason}")
                continue
            progress = self._progress.value
            lstm_state = tf.nest.pack_sequence_as(
                self._zero_state, [tf.identity(v) for v in self._lstm_state]
            )
            self.last_saved = (progress["epoch"], progress["step"])
            epoch_state = EpochState(
                lstm_state,
                progress["step"],
                progress["costs"],
                progress["iters"],
                progress["seconds"],
            )
            return path, progress["epoch"], epoch_state, History.from_json(progress["results"])
        raise files.WorkdirError(
            f"no checkpoint in {self.directory} can be restored ({'; '.join(failures)}); "
            f"{files.START_OVER}"
        )


def _number(path: str) -> int:
    """n of a checkpoint path ending in ckpt-n."""
    return int(re.search(r"-(\d+)$", path).group(1))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _drop_damaged_state_file(directory: str) -> None:
    """Removes a `checkpoint` file TensorFlow cannot parse (the checkpoints stay).

    CheckpointManager refuses to start on an empty one and ignores a garbled one; without
    it, `RunCheckpoints.saved` finds the checkpoints by their file names.
    """
    path = os.path.join(directory, "checkpoint")
    if not os.path.isfile(path):
        return
    try:
        damaged = tf.train.get_checkpoint_state(directory) is None
    except (ValueError, tf.errors.OpError):
        damaged = True
    if damaged:
        logging.warning(
            "Ignoring %s, which cannot be parsed; looking for checkpoints by name.", path
        )
        os.remove(path)
