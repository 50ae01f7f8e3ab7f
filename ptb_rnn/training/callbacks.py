"""What the trainer calls between compiled calls: safety, checkpoints, summaries, stops.

The window loop decides nothing about checkpoints, summaries, logs or signals: between
its compiled calls the trainer calls its callbacks, in order, at four kinds of moment
(after each compiled training call, after each epoch, before each final evaluation and
after the last). The order is the trainer's guarantee: the `DivergenceGuard` runs first,
always, so a diverged state is never checkpointed; then `ValidationCurve` (when asked
for), `Checkpointing` (when the run has a checkpoint interval), `Summaries`,
`ProgressLog`, and the caller's own callbacks, e.g. `StopOnRequest`. Any callback may
raise to end the run.
"""

import dataclasses
import math
import sys
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ptb_rnn import evaluate
from ptb_rnn.model.network import PTBModel
from ptb_rnn.training import steps
from ptb_rnn.training.checkpoint import RunCheckpoints
from ptb_rnn.training.epoch import EpochState
from ptb_rnn.training.history import History

# A window whose perplexity, exp(loss / num_steps), would not fit in a float64 has
# diverged: about 709.8 nats per word (a uniform guess over 10000 words costs 9.2).
MAX_LOSS_PER_STEP = float(np.log(np.finfo(np.float64).max))


class Diverged(RuntimeError):
    """The loss or the weights became NaN or infinite; nothing from then on was saved.

    A loss too large for its perplexity to be a float counts as infinite.
    """


class Interrupted(RuntimeError):
    """Training stopped on request, after saving a checkpoint if the run has them."""


class StopRequested(Exception):
    """Raised by a callback to stop the run; the trainer turns it into `Interrupted`."""

    def __init__(self, where: str):
        super().__init__(where)
        self.where = where


@dataclasses.dataclass
class Progress:
    """Where a run is: what the callbacks see, and what a checkpoint holds.

    Attributes:
      epoch: the 0-based epoch in progress; num_epochs once training is over.
      epoch_state: how far the epoch has got (a fresh one at each epoch start).
      history: what the run has measured so far.
      num_epochs: the run's epochs (config.max_max_epoch).
      epoch_size: windows in the epoch in progress.
      learning_rate: the epoch's learning rate.
    """

    epoch: int
    epoch_state: EpochState
    history: History
    num_epochs: int
    epoch_size: int = 0
    learning_rate: float = 0.0


class Callback:
    """A no-op callback; subclasses override the moments they care about."""

    def after_call(self, progress: Progress, losses: np.ndarray, num_steps: int) -> None:
        """After a compiled training call of len(losses) windows of num_steps words."""

    def after_epoch(self, progress: Progress) -> None:
        """After an epoch's training and validation (progress is at the next epoch)."""

    def before_evaluation(self, progress: Progress, split: str) -> None:
        """Before the final batch-size-1 evaluation of a split."""

    def after_evaluation(self, progress: Progress) -> None:
        """After the final evaluation (in progress.history.eval), before results.json
        is written."""

    def on_stop(self, progress: Progress) -> str | None:
        """The run is stopping on request; returns what was saved, if anything."""
        return None


class CallbackList(Callback):
    """Calls each callback in turn, in the order given."""

    def __init__(self, callbacks: list[Callback]):
        self.callbacks = list(callbacks)

    def after_call(self, progress, losses, num_steps):
        for callback in self.callbacks:
            callback.after_call(progress, losses, num_steps)

    def after_epoch(self, progress):
        for callback in self.callbacks:
            callback.after_epoch(progress)

    def before_evaluation(self, progress, split):
        for callback in self.callbacks:
            callback.before_evaluation(progress, split)

    def after_evaluation(self, progress):
        for callback in self.callbacks:
            callback.after_evaluation(progress)

    def on_stop(self, progress):
        saved = [callback.on_stop(progress) for callback in self.callbacks]
        return next((what for what in saved if what), None)


class DivergenceGuard(Callback):
    """Stops the run with `Diverged` when a call's loss or the weights are not finite.

    With gradients clipped, the loss rarely becomes NaN: a far too large learning rate
    makes it grow without bound instead (--learning_rate=1e6 gives about 1e6 nats per
    window), so a window whose perplexity overflows counts as diverged too. The weights
    are checked as well, since the losses do not show the call's last update.

    Args:
      model: the model being trained.
      checkpoints: the run's checkpoints, to say what was saved; None if it has none.
    """

    def __init__(self, model: PTBModel, checkpoints: RunCheckpoints | None = None):
        self.model = model
        self.checkpoints = checkpoints

    def after_call(self, progress, losses, num_steps):
        diverged = check_diverged(losses, num_steps, self.model)
        if diverged is None:
            return
        index, what = diverged
        saved = "nothing was saved"
        if self.checkpoints is not None and self.checkpoints.last_saved is not None:
            saved_epoch, saved_step = self.checkpoints.last_saved
            saved = f"nothing after epoch {saved_epoch + 1}, step {saved_step} was saved"
        step = progress.epoch_state.step - len(losses) + index + 1
        raise Diverged(
            f"training diverged at epoch {progress.epoch + 1}, step {step} "
            f"(learning rate {progress.learning_rate:g}): {what}; {saved}. Lower "
            "--learning_rate or --max_grad_norm and start over with --restart."
        )


def check_diverged(losses: np.ndarray, num_steps: int, model: PTBModel) -> tuple[int, str] | None:
    """Whether training has diverged in a call, and where.

    Args:
      losses: the call's window losses, (num_windows,).
      num_steps: the windows' length.
      model: the model after the call's updates.

    Returns:
      None if all is finite, else (i, what): the index in the call of the first bad
      window, and what went wrong, e.g. "the loss is nan nats over 20 steps".
    """
    per_step = np.asarray(losses, np.float64) / num_steps
    bad = ~(per_step < MAX_LOSS_PER_STEP)  # NaN compares false
    if bad.any():
        i = int(np.argmax(bad))
        return i, f"the loss is {losses[i]:.4g} nats over {num_steps} steps"
    for variable in model.trainable_variables:
        if not np.all(np.isfinite(variable.numpy())):
            return len(losses) - 1, f"{variable.path} became NaN or infinite"
    return None


class Checkpointing(Callback):
    """A checkpoint every `every_steps` windows of an epoch, at each epoch end, and on stop."""

    def __init__(self, checkpoints: RunCheckpoints, every_steps: int):
        self.checkpoints = checkpoints
        self.every_steps = every_steps

    def _save(self, progress: Progress) -> None:
        self.checkpoints.save(progress.epoch, progress.epoch_state, progress.history)

    def after_call(self, progress, losses, num_steps):
        step = progress.epoch_state.step
        if step % self.every_steps == 0 and step < progress.epoch_size:
            self._save(progress)

    def after_epoch(self, progress):
        self._save(progress)

    def on_stop(self, progress):
        self._save(progress)
        return (
            f"checkpoint saved in {self.checkpoints.directory}; run the same command "
            "again to resume."
        )


def log_tenths(label: str) -> Callable[[int, int], None]:
    """A `report(done, total)` for a pass that logs "<label>: <fraction> done" each time
    done crosses a tenth of total (validation and evaluation, which have no callbacks).
    A done smaller than the last one starts a new pass."""
    last = {"done": 0, "tenths": 0}

    def report(done: int, total: int) -> None:
        if done < last["done"]:
            last["tenths"] = 0
        tenths = done * 10 // total
        if last["tenths"] < tenths < 10:
            logging.info("%s: %.1f done", label, tenths / 10)
        last.update(done=done, tenths=max(last["tenths"], tenths))

    return report


class ProgressLog(Callback):
    """A progress bar over each training epoch, and the tutorial's line ten times an epoch:
    "<fraction of the epoch> perplexity: <running train perplexity> speed: <words/s> wps";
    a line before each split of the final evaluation.

    The bar is drawn on a terminal only: in a log file it would print once, at the end of
    the epoch, what the epoch's line says already.
    """

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.epoch = None  # the epoch of the bar
        self.progbar = None

    def after_call(self, progress, losses, num_steps):
        epoch_state, epoch_size = progress.epoch_state, progress.epoch_size
        if self.epoch != progress.epoch and sys.stdout.isatty():
            self.progbar = keras.utils.Progbar(
                epoch_size, verbose=1, stateful_metrics=["perplexity", "wps"]
            )
        self.epoch = progress.epoch
        last = epoch_state.step
        first = last - len(losses)
        perplexity = epoch_state.perplexity
        wps = epoch_state.words_per_second(self.batch_size)
        if self.progbar is not None:
            self.progbar.update(last, [("perplexity", perplexity), ("wps", wps)])
        log_every = max(epoch_size // 10, 1)
        if (first - 10) // log_every != (last - 10) // log_every:
            fraction = last / epoch_size
            logging.info("%.3f perplexity: %.3f speed: %.0f wps", fraction, perplexity, wps)

    def before_evaluation(self, progress, split):
        logging.info("Final evaluation of the %s split at batch size 1", split)


# Training scalars go to TensorBoard every this many windows (and at each epoch end).
SUMMARY_EVERY_WINDOWS = 200


class Summaries(Callback):
    """TensorBoard scalars, against the words trained so far.

    Every `every_windows` windows of an epoch and at its end: the running training
    perplexity (`train/perplexity`, the tutorial's), the training speed
    (`train/words_per_second`) and the learning rate (`learning_rate`). At each epoch end:
    the validation perplexity in the training layout (`valid/perplexity`). After the final
    evaluation: valid and test perplexity at batch size 1 under both protocols
    (`final/valid_perplexity_carried`, `final/test_perplexity_carried`, the tutorial's
    test, and `..._trained_state`).

    They are written as `Summary` protos with a `simple_value`, the form every TensorBoard
    reader lists as scalars (EventAccumulator's `Tags()["scalars"]` too, which lists
    `tf.summary.scalar`'s tensors as tensors).

    Args:
      directory: where the event files go.
      batch_size: rows of a window, to count words.
      every_windows: how often within an epoch.
    """

    def __init__(self, directory: str, batch_size: int, every_windows: int = SUMMARY_EVERY_WINDOWS):
        self.writer = tf.summary.create_file_writer(directory)
        self.batch_size = batch_size
        self.every_windows = every_windows

    def _write(self, step: int, scalars: dict[str, float]) -> None:
        summary = tf.compat.v1.Summary(
            value=[
                tf.compat.v1.Summary.Value(tag=tag, simple_value=value)
                for tag, value in scalars.items()
            ]
        )
        with self.writer.as_default():
            tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=step)
        self.writer.flush()

    def after_call(self, progress, losses, num_steps):
        epoch_state, last = progress.epoch_state, progress.epoch_state.step
        first = last - len(losses)
        if last // self.every_windows == first // self.every_windows and last < progress.epoch_size:
            return
        words = progress.history.words_so_far + epoch_state.iters * self.batch_size
        self._write(
            words,
            {
                "train/perplexity": epoch_state.perplexity,
                "train/words_per_second": epoch_state.words_per_second(self.batch_size),
                "learning_rate": progress.learning_rate,
            },
        )

    def after_epoch(self, progress):
        history = progress.history
        valid = history.valid_perplexity_training_layout[-1]
        self._write(history.words_so_far, {"valid/perplexity": valid})

    def after_evaluation(self, progress):
        history = progress.history
        self._write(
            history.words_so_far,
            {
                f"final/{split}_perplexity_{protocol}": perplexity
                for protocol, splits in history.eval.items()
                for split, perplexity in splits.items()
            },
        )


class ValidationCurve(Callback):
    """Validation perplexity at batch size 1, several times an epoch, into history.curve.

    Points are measured after the first call that reaches each 1/points_per_epoch of
    the epoch (so a point may come up to windows_per_call windows late; its `words`
    say exactly where it is). Each has the two protocols of the final evaluation:
    "carried" (the tutorial's) and "trained_state" (reset every reset_every words, for
    a model trained without carry; equal to carried otherwise). The points go into the
    history, so they are checkpointed with it and a resumed run does not repeat them.

    Args:
      model: the model being trained.
      valid_ids: the validation split, 1-D ids.
      batch_size: the training batch size (words per window row).
      reset_every: None if the model carries its state, else its window length.
      points_per_epoch: e.g. 4: every quarter epoch.
    """

    def __init__(self, model, valid_ids, batch_size: int, reset_every, points_per_epoch: int):
        self.model = model
        self.valid_ids = valid_ids
        self.batch_size = batch_size
        self.reset_every = reset_every
        self.points_per_epoch = points_per_epoch
        self.eval_steps = steps.make_eval_steps(model)

    def after_call(self, progress, losses, num_steps):
        history, epoch_state = progress.history, progress.epoch_state
        done = sum(1 for point in history.curve if point["epoch"] == progress.epoch + 1)
        mark = math.ceil(progress.epoch_size * (done + 1) / self.points_per_epoch)
        if done == self.points_per_epoch or epoch_state.step < mark:
            return
        protocols = evaluate.evaluate_protocols(
            self.eval_steps, self.model, self.valid_ids, self.reset_every
        )
        history.curve.append(
            {
                "epoch": progress.epoch + 1,
                "step": epoch_state.step,
                "words": history.words_so_far + epoch_state.iters * self.batch_size,
                "train_seconds": history.train_seconds_so_far + epoch_state.seconds,
                **protocols,
            }
        )


class StopOnRequest(Callback):
    """Stops the run at the next moment `should_stop()` is true (e.g. after a signal)."""

    def __init__(self, should_stop: Callable[[], bool]):
        self.should_stop = should_stop

    def after_call(self, progress, losses, num_steps):
        if self.should_stop():
            raise StopRequested(
                f"at epoch {progress.epoch + 1}, step {progress.epoch_state.step} "
                f"of {progress.epoch_size}"
            )

    def after_epoch(self, progress):
        if self.should_stop():
            raise StopRequested(f"after epoch {progress.epoch} of {progress.num_epochs}")

    def before_evaluation(self, progress, split):
        if self.should_stop():
            raise StopRequested(f"before the final evaluation on {split}")

    def after_evaluation(self, progress):
        if self.should_stop():
            raise StopRequested("after the final evaluation, before writing results")
