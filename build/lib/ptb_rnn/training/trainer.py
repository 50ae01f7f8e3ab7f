"""Training and evaluation with truncated backpropagation through time (TBPTT).

`train_and_evaluate` reads like a table of contents: build the model and the compiled
steps, resume from the latest checkpoint if there is one, train epoch after epoch with
the tutorial's learning-rate schedule, evaluate at batch size 1, write results.json.
The work inside lives in one module per job:

    steps.py       the loss summed over time steps, SGD with global-norm clipping, and
                   the compiled train/eval steps (backprop cut at each window's edge)
    replicas.py    the same steps spread over tf.distribute replicas, rows per replica
    epoch.py       one pass over an epoch's windows, the LSTM state carried between calls
    evaluate/      the batch-size-1 stream protocols
    callbacks.py   the divergence guard, checkpoints, summaries, stop on request
    checkpoint.py  what a checkpoint holds
    history.py     the record of the run (results.json)
    files.py       the work directory's layout, atomic writing
"""

import dataclasses
import os
import time

import keras
import tensorflow as tf
from absl import logging

from ptb_rnn import evaluate, files, reader
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import callbacks as callbacks_lib
from ptb_rnn.training import replicas, steps
from ptb_rnn.training.checkpoint import RunCheckpoints
from ptb_rnn.training.epoch import EpochState, run_epoch
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
        curve, checkpoints, summaries, in that order).

    Returns:
      The History written to results.json; for a work directory whose results.json
      already holds this run, that History, with nothing trained. A worker that is not
      the chief returns the History of training, without the final evaluation.

    Raises:
      files.WorkdirError: workdir holds checkpoints or results of a different run, or
        none of its checkpoints restores, or a file cannot be written there.
      callbacks.Diverged: the loss became NaN or infinite; the latest checkpoint, if
        any, is the last one before.
      callbacks.Interrupted: a callback asked to stop (a checkpoint was saved first).
    """
    config = spec.config
    identity = spec.identity(corpus)
    files.check_same_run(workdir, identity)
    finished = files.read_json(os.path.join(workdir, files.RESULTS_FILE))
    if finished is not None:
        logging.info("%s holds this run, finished; nothing to train.", workdir)
        return History.from_json(finished)
    strategy = replicas.create_strategy(spec.strategy, spec.cpu_devices)
    chief = replicas.is_chief(strategy)
    if chief:
        os.makedirs(workdir, exist_ok=True)
    if spec.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(spec.seed)
    model, optimizer = replicas.build(spec, strategy)

    history = History(
        dataclasses.asdict(config),
        dataclasses.asdict(spec.truncation),
        machine={
            **machine_description(),
            "strategy": spec.strategy,
            "replicas": replicas.num_replicas(strategy),
        },
        identity=identity,
    )
    zero_state = model.zero_state(config.batch_size)
    progress = callbacks_lib.Progress(0, EpochState(zero_state), history, config.max_max_epoch)
    checkpoints = None
    if spec.checkpoint_every_steps is not None:
        checkpoints = _resume(spec, identity, workdir, model, optimizer, progress, chief)
    hooks = _callbacks(spec, corpus, workdir, model, checkpoints, callbacks, chief)
    start_time = time.time() - progress.history.seconds_so_far - progress.epoch_state.seconds
    try:
        train_steps = replicas.make_train_steps(
            strategy, model, optimizer, spec.truncation.carry_state
        )
        _train(spec, corpus, model, train_steps, optimizer, progress, hooks, start_time)
        if not chief:
            replicas.wait_for_workers(strategy)  # the chief evaluates and writes
            return progress.history
        weights_path = os.path.join(workdir, files.WEIGHTS_FILE)
        with files.atomic_path(weights_path) as temporary:
            model.save_weights(temporary)
        with files.atomic_path(os.path.join(workdir, files.MODEL_FILE)) as temporary:
            LanguageModel(model, corpus.id_to_word).save(temporary)
        evaluation = _evaluate(spec, corpus, model, progress, hooks)
    except callbacks_lib.StopRequested as stop:
        unsaved = "checkpoints are off" if chief else "the chief saves the checkpoints"
        saved = hooks.on_stop(progress) or f"nothing was saved ({unsaved})."
        raise callbacks_lib.Interrupted(f"stopped {stop.where}, {saved}") from None
    history = progress.history
    history.finish(evaluation, time.time() - start_time)
    logging.info("Test Perplexity: %.3f", history.test_perplexity)
    files.write_json(os.path.join(workdir, files.RESULTS_FILE), history.to_json())
    replicas.wait_for_workers(strategy)
    return history


def _resume(spec, identity, workdir, model, optimizer, progress, chief) -> RunCheckpoints:
    """Opens the run's checkpoints; restores the newest good one into model and progress."""
    checkpoints = RunCheckpoints(
        os.path.join(workdir, files.CHECKPOINT_DIR), model, optimizer, spec.config.batch_size
    )
    if not checkpoints.saved:
        if chief:
            files.write_identity(workdir, identity)
        return checkpoints
    path, progress.epoch, progress.epoch_state, progress.history = checkpoints.restore()
    progress.history.identity = identity  # checkpoints of older versions lack it
    if progress.epoch < progress.num_epochs:
        where = f"epoch {progress.epoch + 1}, step {progress.epoch_state.step}"
    else:
        where = "training is finished, evaluating"
    logging.info("Resuming from %s: %s", path, where)
    return checkpoints


def _callbacks(spec, corpus, workdir, model, checkpoints, callbacks, chief):
    """The trainer's callbacks, in the order it guarantees, then the caller's; on a
    worker that is not the chief, none that writes."""
    hooks = [callbacks_lib.DivergenceGuard(model, checkpoints)]  # first: never save a bad state
    if spec.curve_points_per_epoch:  # before checkpoints, which then hold its points
        hooks.append(
            callbacks_lib.ValidationCurve(
                model,
                corpus.valid,
                spec.config.batch_size,
                spec.reset_every,
                spec.curve_points_per_epoch,
            )
        )
    if chief and checkpoints is not None:
        hooks.append(callbacks_lib.Checkpointing(checkpoints, spec.checkpoint_every_steps))
    if chief:
        hooks.append(callbacks_lib.Summaries(os.path.join(workdir, files.SUMMARY_DIR)))
    return callbacks_lib.CallbackList([*hooks, *callbacks])


def _train(spec, corpus, model, train_steps, optimizer, progress, hooks, start_time) -> None:
    """Trains the remaining epochs, each followed by validation in the training layout."""
    config, truncation = spec.config, spec.truncation
    train_batches = reader.ptb_producer(corpus.train, config.batch_size, config.num_steps)
    valid_batches = reader.ptb_producer(corpus.valid, config.batch_size, spec.eval_num_steps)
    # Validation in the training layout handles the state as training does.
    valid_steps = steps.make_eval_steps(model, truncation.carry_state)
    for epoch in range(progress.epoch, config.max_max_epoch):
        learning_rate = config.learning_rate_at(epoch)
        optimizer.learning_rate.assign(learning_rate)
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
        train_perplexity, wps = run_epoch(
            train_steps,
            model,
            train_batches,
            window_lengths,
            spec.windows_per_call,
            verbose=True,
            epoch_state=progress.epoch_state,
            break_every=spec.checkpoint_every_steps,
            after_call=lambda _, losses, num_steps: hooks.after_call(progress, losses, num_steps),
        )
        valid_perplexity, _ = run_epoch(valid_steps, model, valid_batches)
        logging.info(
            "Epoch: %d Train Perplexity: %.3f Valid Perplexity: %.3f (%.0f wps)",
            epoch + 1,
            train_perplexity,
            valid_perplexity,
            wps,
        )
        words = progress.history.words_so_far + sum(window_lengths) * config.batch_size
        progress.history.add_epoch(
            learning_rate,
            train_perplexity,
            valid_perplexity,
            wps,
            words,
            elapsed_seconds=time.time() - start_time,
            train_seconds=progress.history.train_seconds_so_far + progress.epoch_state.seconds,
        )
        progress.epoch = epoch + 1
        progress.epoch_state = EpochState(model.zero_state(config.batch_size))
        hooks.after_epoch(progress)


def _evaluate(spec, corpus, model, progress, hooks) -> dict:
    """Valid and test perplexity at batch size 1, state carried and state as trained."""
    stream_steps = steps.make_eval_steps(model)
    reset_every = spec.reset_every
    evaluation = {"carried": {}, "trained_state": {}}
    for split in ("valid", "test"):
        hooks.before_evaluation(progress, split)
        ids = getattr(corpus, split)
        carried = evaluate.evaluate_stream(stream_steps, model, ids)
        evaluation["carried"][split] = carried
        evaluation["trained_state"][split] = (
            carried
            if reset_every is None
            else evaluate.evaluate_stream(stream_steps, model, ids, reset_every=reset_every)
        )
    hooks.after_evaluation(progress)
    return evaluation
