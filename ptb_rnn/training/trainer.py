"""Training and evaluation with truncated backpropagation through time (TBPTT).

`train_and_evaluate` reads like a table of contents: build the model and the optimizer,
resume from the latest checkpoint if there is one, train epoch after epoch with the
tutorial's learning-rate schedule, evaluate at batch size 1, write results.json.

The split is orbit's: `epoch.WindowLoop` (the trainer) runs the windows it is asked
for in compiled calls and hands back control after each; `_Run` here (the controller)
decides what happens between calls by calling the callbacks, and ends calls at the
checkpoint interval. The work inside lives in one module per job:

    model/network.py  the network and its loss (`build_model`)
    steps.py          SGD with global-norm clipping and the compiled train/eval steps
                      (backprop cut at each window's edge)
    replicas.py       the same steps placed on tf.distribute replicas, rows per replica
    epoch.py          the windows of an epoch, the LSTM state carried between calls
    evaluate/         the batch-size-1 stream protocols
    callbacks.py      the divergence guard, checkpoints, summaries, progress, stops
    checkpoint.py     what a checkpoint holds
    history.py        the record of the run (results.json)
    files.py          the work directory's layout, atomic writing
"""

import dataclasses
import os
import time

import keras
import tensorflow as tf
from absl import logging

from ptb_rnn import evaluate, files, reader
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.model.network import build_model
from ptb_rnn.spec import RunSpec, check_rows_per_replica
from ptb_rnn.training import callbacks as callbacks_lib
from ptb_rnn.training import replicas, steps
from ptb_rnn.training.checkpoint import RunCheckpoints
from ptb_rnn.training.epoch import EpochState, WindowLoop, run_epoch
from ptb_rnn.training.history import History, machine_description


def train_and_evaluate(
    spec: RunSpec,
    corpus: reader.Corpus,
    workdir: str,
    callbacks: list[callbacks_lib.Callback] = (),
) -> History:
    """Trains with the tutorial's recipe, evaluates, and writes workdir/results.json.

    Each epoch: train perplexity, then validation perplexity in the training layout
    (batch_size rows, windows of the final truncation length) with the state handled as
    in training. At the end, valid and test perplexity at batch_size 1 under two
    protocols: "carried" (the tutorial's: the state carried through the whole split)
    and "trained_state" (the state handled as in training: carried, or reset every
    num_steps words). The final weights go to workdir/model.weights.h5, and the model with
    its vocabulary to workdir/model.keras (language_model.py).

    With spec.strategy "multi_worker", every worker runs this; only the chief writes
    in workdir and evaluates, and the others read its checkpoints to resume (the work
    directory must be on a file system they share).

    Args:
      spec: the run; `spec.check(corpus)` must have passed.
      corpus: the three splits.
      workdir: where results.json, the weights, summaries and checkpoints go. With
        spec.checkpoint_every_steps set, training resumes from the latest checkpoint
        found there.
      callbacks: called after the trainer's own (the divergence guard, the validation
        curve, checkpoints, summaries, the progress log, in that order).

    Returns:
      The History written to results.json; for a work directory whose results.json
      already holds this run, that History, with nothing trained. A finished run of fewer
      epochs is extended: its last checkpoint restored, the epochs after it trained, the
      evaluation and results.json written again. A worker that is not
      the chief returns the History of training, without the final evaluation.

    Raises:
      files.WorkdirError: workdir holds checkpoints or results of a different run, or
        none of its checkpoints restores, or a file cannot be written there.
      callbacks.Diverged: the loss became NaN or infinite; the latest checkpoint, if
        any, is the last one before.
      callbacks.Interrupted: a callback asked to stop (a checkpoint was saved first).
    """
    identity = spec.identity(corpus)
    files.check_same_run(workdir, identity)
    files.check_run_length(workdir, spec.config.max_max_epoch)
    finished = files.read_json(os.path.join(workdir, files.RESULTS_FILE))
    if finished is not None:
        epochs_done = History.from_json(finished).epochs_done
        if epochs_done == spec.config.max_max_epoch:
            logging.info("%s holds this run, finished; nothing to train.", workdir)
            return History.from_json(finished)
        logging.info(
            "%s holds this run, finished after epoch %d: extending it to %d epochs.",
            workdir,
            epochs_done,
            spec.config.max_max_epoch,
        )
    run = _Run(spec, corpus, workdir, identity)
    run.resume()
    run.add_callbacks(callbacks)
    start_time = time.time() - run.progress.history.seconds_so_far
    start_time -= run.progress.epoch_state.seconds
    try:
        run.train(start_time)
        if not run.chief:
            replicas.wait_for_workers(run.strategy)  # the chief evaluates and writes
            return run.progress.history
        run.save_model()
        evaluation = run.evaluate()
    except callbacks_lib.StopRequested as stop:
        unsaved = "checkpoints are off" if run.chief else "the chief saves the checkpoints"
        saved = run.callbacks.on_stop(run.progress) or f"nothing was saved ({unsaved})."
        raise callbacks_lib.Interrupted(f"stopped {stop.where}, {saved}") from None
    history = run.progress.history
    history.finish(evaluation, time.time() - start_time)
    logging.info("Test Perplexity: %.3f", history.test_perplexity)
    files.write_json(os.path.join(workdir, files.RESULTS_FILE), history.to_json())
    logging.info("%s", _written(workdir, run.checkpoints is not None))
    replicas.wait_for_workers(run.strategy)
    return history


def _written(workdir: str, checkpoints: bool) -> str:
    """The log's last line: where the run's files are."""

    def path(name):
        return os.path.join(workdir, name)

    text = (
        f"Wrote {path(files.RESULTS_FILE)}, {path(files.MODEL_FILE)} (the model for evaluate, "
        f"sample and export), {path(files.WEIGHTS_FILE)} and the TensorBoard scalars in "
        f"{path(files.SUMMARY_DIR)}"
    )
    if checkpoints:
        text += f"; checkpoints in {path(files.CHECKPOINT_DIR)}"
    return text + "."


class _Run:
    """One training run: the controller of the trainer/controller split.

    The window loop (`epoch.WindowLoop`) runs the windows it is asked for; this decides,
    between its calls, what happens when: it ends calls at the checkpoint interval and
    calls the callbacks, which check for divergence, save checkpoints, measure, write
    summaries and stop on request.
    """

    def __init__(self, spec: RunSpec, corpus: reader.Corpus, workdir: str, identity: dict):
        """Sets up TensorFlow for the run and builds the model and the optimizer."""
        self.spec, self.corpus, self.workdir = spec, corpus, workdir
        self.strategy = replicas.create_strategy(spec.strategy, spec.cpu_devices)  # train.py's
        num_replicas = replicas.num_replicas(self.strategy)
        check_rows_per_replica(spec.config.batch_size, num_replicas, "replica")
        self.chief = replicas.is_chief(self.strategy)
        if self.chief:
            os.makedirs(workdir, exist_ok=True)
        if spec.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(spec.seed)
        with replicas.scope(self.strategy):  # one copy of every variable per replica
            self.model = build_model(spec)
            self.optimizer = steps.make_optimizer(spec.config)
            self.optimizer.build(self.model.trainable_variables)
        history = History(
            dataclasses.asdict(spec.config),
            dataclasses.asdict(spec.truncation),
            machine={
                **machine_description(),
                "strategy": spec.strategy,
                "replicas": num_replicas,
            },
            identity=identity,
        )
        zero_state = self.model.zero_state(spec.config.batch_size)
        self.progress = callbacks_lib.Progress(
            0, EpochState(zero_state), history, spec.config.max_max_epoch
        )
        self.checkpoints = None
        self.callbacks = None

    def resume(self) -> None:
        """Opens the run's checkpoints, if it has them; restores the newest good one."""
        if self.spec.checkpoint_every_steps is None:
            return
        self.checkpoints = RunCheckpoints(
            os.path.join(self.workdir, files.CHECKPOINT_DIR),
            self.model,
            self.optimizer,
            self.spec.config.batch_size,
        )
        progress, identity = self.progress, self.progress.history.identity
        if not self.checkpoints.saved:
            if self.chief:
                files.write_identity(self.workdir, identity)
            return
        path, progress.epoch, progress.epoch_state, progress.history = self.checkpoints.restore()
        progress.history.identity = identity  # checkpoints of older versions lack it
        progress.history.config = dataclasses.asdict(self.spec.config)  # an extension's length
        if progress.epoch > progress.num_epochs:
            raise files.WorkdirError(
                f"{path} is at the end of epoch {progress.epoch}, past max_max_epoch "
                f"{progress.num_epochs}; pass --max_max_epoch={progress.epoch} or more, "
                "--restart to start over there, or choose another --workdir."
            )
        if progress.epoch < progress.num_epochs:
            where = f"epoch {progress.epoch + 1}, step {progress.epoch_state.step}"
        else:
            where = "training is finished, evaluating"
        logging.info("Resuming from %s: %s", path, where)

    def add_callbacks(self, callbacks) -> None:
        """The trainer's callbacks, in the order it guarantees, then the caller's; on a
        worker that is not the chief, none that writes."""
        spec = self.spec
        # First: never save a diverged state.
        own = [callbacks_lib.DivergenceGuard(self.model, self.checkpoints)]
        if spec.curve_points_per_epoch:  # before checkpoints, which then hold its points
            own.append(
                callbacks_lib.ValidationCurve(
                    self.model,
                    self.corpus.valid,
                    spec.config.batch_size,
                    spec.reset_every,
                    spec.curve_points_per_epoch,
                )
            )
        if self.chief and self.checkpoints is not None:
            own.append(callbacks_lib.Checkpointing(self.checkpoints, spec.checkpoint_every_steps))
        if self.chief:
            own.append(
                callbacks_lib.Summaries(
                    os.path.join(self.workdir, files.SUMMARY_DIR), spec.config.batch_size
                )
            )
        own.append(callbacks_lib.ProgressLog(spec.config.batch_size))
        self.callbacks = callbacks_lib.CallbackList([*own, *callbacks])

    def train(self, start_time: float) -> None:
        """Trains the remaining epochs, each followed by validation in the training layout."""
        spec, progress = self.spec, self.progress
        config, truncation = spec.config, spec.truncation
        train_steps = replicas.make_train_steps(
            self.strategy, self.model, self.optimizer, truncation.carry_state
        )
        train_batches = reader.ptb_producer(self.corpus.train, config.batch_size, config.num_steps)
        valid_batches = reader.ptb_producer(
            self.corpus.valid, config.batch_size, spec.eval_num_steps
        )
        # Validation in the training layout handles the state as training does.
        valid_steps = steps.make_eval_steps(self.model, truncation.carry_state)
        for epoch in range(progress.epoch, config.max_max_epoch):
            learning_rate = config.learning_rate_at(epoch)
            self.optimizer.learning_rate.assign(learning_rate)
            window_lengths = truncation.window_lengths(
                epoch, config.max_max_epoch, train_batches.batch_len, config.num_steps
            )
            progress.epoch_size, progress.learning_rate = len(window_lengths), learning_rate
            logging.info(
                "Epoch: %d Learning rate: %.3f num_steps: %s",
                epoch + 1,
                learning_rate,
                ",".join(str(k) for k in sorted(set(window_lengths))),
            )
            loop = WindowLoop(train_steps, train_batches, window_lengths, spec.windows_per_call)
            # Calls end at every multiple of the checkpoint interval, where the
            # checkpoints are saved.
            every = spec.checkpoint_every_steps or loop.epoch_size
            while progress.epoch_state.step < loop.epoch_size:
                until = (progress.epoch_state.step // every + 1) * every
                for losses, num_steps in loop.run_calls(progress.epoch_state, until):
                    self.callbacks.after_call(progress, losses, num_steps)
            train_perplexity = progress.epoch_state.perplexity
            wps = progress.epoch_state.words_per_second(config.batch_size)
            logging.info(
                "Epoch: %d validating: %d windows of batch_size %d x num_steps %d",
                epoch + 1,
                valid_batches.epoch_size,
                config.batch_size,
                spec.eval_num_steps,
            )
            valid_perplexity, _ = run_epoch(
                valid_steps,
                self.model,
                valid_batches,
                callbacks_lib.log_tenths(f"Epoch: {epoch + 1} validating"),
            )
            logging.info(
                "Epoch: %d Train Perplexity: %.3f Valid Perplexity: %.3f (%.0f wps)",
                epoch + 1,
                train_perplexity,
                valid_perplexity,
                wps,
            )
            history = progress.history
            history.add_epoch(
                learning_rate,
                train_perplexity,
                valid_perplexity,
                wps,
                history.words_so_far + sum(window_lengths) * config.batch_size,
                elapsed_seconds=time.time() - start_time,
                train_seconds=history.train_seconds_so_far + progress.epoch_state.seconds,
            )
            progress.epoch = epoch + 1
            progress.epoch_state = EpochState(self.model.zero_state(config.batch_size))
            self.callbacks.after_epoch(progress)

    def save_model(self) -> None:
        """The final weights, and the model with its vocabulary (model.keras)."""
        with files.atomic_path(os.path.join(self.workdir, files.WEIGHTS_FILE)) as temporary:
            self.model.save_weights(temporary)
        with files.atomic_path(os.path.join(self.workdir, files.MODEL_FILE)) as temporary:
            LanguageModel(self.model, self.corpus.id_to_word).save(temporary)

    def evaluate(self) -> dict:
        """Valid and test perplexity at batch size 1, state carried and state as trained."""
        stream_steps = steps.make_eval_steps(self.model)
        evaluation = {"carried": {}, "trained_state": {}}
        for split in ("valid", "test"):
            self.callbacks.before_evaluation(self.progress, split)
            protocols = evaluate.evaluate_protocols(
                stream_steps,
                self.model,
                getattr(self.corpus, split),
                self.spec.reset_every,
                callbacks_lib.log_tenths(f"Final evaluation of the {split} split"),
            )
            for protocol, perplexity in protocols.items():
                evaluation[protocol][split] = perplexity
        self.progress.history.eval = evaluation  # what after_evaluation sees
        self.callbacks.after_evaluation(self.progress)
        return evaluation
