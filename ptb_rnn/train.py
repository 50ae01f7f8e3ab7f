"""Trains the PTB language model with the tutorial's recipe.

    python -m ptb_rnn.train --config=small --workdir=runs/small [--ptb_dir=DIR]

The config, data, truncation and run flags are defined in ptb_rnn/cli.py (--help lists
them all), among them:

  --seed                    initial weights and dropout masks.
  --checkpoint_every_steps  save a checkpoint every this many updates (windows) of an
                            epoch; one is also saved at each epoch end. Default 500.
  --deterministic           tf.config.experimental.enable_op_determinism(): a run
                            killed at any point and resumed ends with the same
                            results.json perplexities and weights, bit for bit, as one
                            not stopped. (On CPU the XLA-compiled steps were bitwise
                            reproducible without it too; only the flag promises it.)

--strategy=mirrored trains on every GPU of this machine (or, without GPUs, on
--cpu_devices logical CPUs); --strategy=multi_worker on the workers the TF_CONFIG
environment variable lists, each running this same command (ptb_rnn/training/cluster.py). Each
replica owns a contiguous block of the batch rows and carries their state; the numbers
are the one-device ones, to float32 rounding (ptb_rnn/training/replicas.py). Only the chief writes
in --workdir, which the other workers must be able to read (a shared file system) to
resume. Each worker first waits for the others (logging for whom, stopping on SIGINT or
SIGTERM, giving up after --cluster_timeout seconds), then all compare the run they were
given: a worker with other flags or another corpus stops every worker, exit 2.

This command adds:

  --workdir                 where everything goes: results.json (at the end),
                            model.weights.h5, tensorboard/, checkpoints/.
  --restart                 delete what an earlier run wrote in --workdir and start over.

Run the same command again after a crash, a kill or Ctrl-C and training continues from
the newest checkpoint in --workdir that restores (the log says from which epoch and step,
and which damaged checkpoint it skipped, if any). Once the run has finished, the same
command trains nothing; with a larger --max_max_epoch it extends the run from its last
checkpoint (the epochs already trained unchanged, results.json written again), unless the
window lengths ramp over the whole run (--truncation_schedule=ramp:..., --mode=curriculum),
which a longer run would change from the start. A work directory is one run's: a
directory holding checkpoints or results.json of a different run (config, truncation,
seed, corpus) is refused rather than mixed or overwritten (pass --restart, or choose
another --workdir), and a second run started on a directory in use is refused until the
first ends (the lock is --workdir/.lock, released by the system however the process ends).

Exit codes:
  0         finished; results.json written.
  1         training diverged (a NaN or infinite loss, e.g. --learning_rate=1e6); the
            latest checkpoint is the last one before.
  2         bad input: a flag, the data or the work directory (also: no checkpoint
            restores, the disk is full); one line on stderr says what to do. Input
            errors are found before anything is written; --restart deletes only after.
  70        internal error: one line on stderr, the traceback in --workdir/error.log
            (multi_worker: the chief's; the other workers' in a temporary file).
  75        multi_worker: another worker stopped or cannot be reached, or the other
            workers did not all start within --cluster_timeout seconds; start every
            worker again with the same command to resume from the latest checkpoint.
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM at the end of a compiled call (during
            the final evaluation: at the end of the split), after saving a checkpoint;
            run the same command again to resume. A second signal stops at once.
"""

import contextlib
import signal

from absl import flags, logging

from ptb_rnn import cli, files
from ptb_rnn.config import ConfigError
from ptb_rnn.training import cluster

cli.define_config_flags()
cli.define_truncation_flags()
cli.define_run_flags()
cli.define_training_flags()
cli.define_data_flags()
flags.DEFINE_string("workdir", "runs/default", "Where results, weights and checkpoints go.")
flags.DEFINE_boolean(
    "restart", False, "Delete the checkpoints and results in --workdir and start over."
)
flags.DEFINE_integer(
    "cluster_timeout",
    600,
    "multi_worker: give up (exit code 75) if the other workers of TF_CONFIG have not all "
    "started within this many seconds.",
    lower_bound=1,
)
FLAGS = flags.FLAGS

# sysexits.h's EX_TEMPFAIL: the run can go on once every worker is started again.
LOST_WORKER = 75


def stop_on_signals() -> list[int]:
    """Turns SIGINT and SIGTERM into a request to stop at the end of the current call.

    Returns:
      The signals received so far (the handler appends to this list). After the first,
      the signal's previous handler is back, so a second one stops at once.
    """
    received = []

    def request_stop(signum, frame):
        del frame
        received.append(signum)
        signal.signal(signum, previous[signum])

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    return received


def main(argv):
    del argv
    spec = cli.spec_from_flags()
    spec.check_computation()
    workers = None
    if spec.strategy == "multi_worker":
        workers = cluster.from_environment()
        workers.check_batch_size(spec.config.batch_size)
    files.check_workdir(FLAGS.workdir)
    received = None
    if workers is not None:
        received = stop_on_signals()
        meet(workers, received)
    if spec.strategy != "one_device":
        # TensorFlow allows one set-up per process, before it runs anything (reading the
        # corpus does).
        from ptb_rnn.training import replicas

        handler = signal.getsignal(signal.SIGTERM)
        strategy = replicas.create_strategy(spec.strategy, spec.cpu_devices)
        # TensorFlow's preemption notifier takes SIGTERM when the strategy starts: back.
        signal.signal(signal.SIGTERM, handler)
    corpus = cli.corpus_from_flags()
    spec.check_corpus(corpus)
    if workers is not None:
        with lost_worker_exits():
            replicas.check_workers_agree(strategy, spec, corpus)
    if not FLAGS.restart:
        # The trainer checks again (for Python callers); here it is before TensorFlow
        # starts, so that the error is one line.
        files.check_same_run(FLAGS.workdir, spec.identity(corpus))
        files.check_run_length(FLAGS.workdir, spec.config.max_max_epoch)
    chief = workers is None or workers.is_chief
    # Only the chief writes, so only the chief locks; the other workers wait for it.
    with files.locked(FLAGS.workdir) if chief else contextlib.nullcontext():
        # Imported once the input is known to be good: TensorFlow writes start-up lines to
        # stderr when imported, and a bad input should end in one line.
        from ptb_rnn.training import callbacks, trainer

        if FLAGS.restart and chief:
            files.start_over(FLAGS.workdir)
        if received is None:
            received = stop_on_signals()
        try:
            with lost_worker_exits():
                trainer.train_and_evaluate(
                    spec,
                    corpus,
                    FLAGS.workdir,
                    callbacks=[callbacks.StopOnRequest(lambda: bool(received))],
                )
        except callbacks.Diverged as e:
            cli.fail(str(e), exit_code=1)
        except callbacks.Interrupted as e:
            cli.exit_with(f"{signal.Signals(received[0]).name}: {e}", 128 + received[0])
        if not chief:
            logging.info("Training finished; the chief evaluates and writes the results.")


def meet(workers: cluster.Cluster, received: list[int]) -> None:
    """Waits for every worker of the cluster (cluster.rendezvous), before TensorFlow
    starts; a signal or the timeout ends the program."""
    try:
        cluster.rendezvous(workers, FLAGS.cluster_timeout, lambda: bool(received))
    except cluster.StopRequested:
        cli.exit_with(
            f"{signal.Signals(received[0]).name}: stopped while waiting for the other "
            "workers; nothing was trained or written.",
            128 + received[0],
        )
    except cluster.WorkersMissing as e:
        cli.fail(str(e), exit_code=LOST_WORKER)


@contextlib.contextmanager
def lost_worker_exits():
    """Ends the program with LOST_WORKER when a collective finds another worker gone."""
    from ptb_rnn.training import replicas

    try:
        yield
    except replicas.LOST_WORKER_ERRORS as e:
        cli.fail(
            f"lost another worker ({type(e).__name__}: {e.message.strip().splitlines()[0]}); "
            "start every worker again with the same command to resume from the latest "
            "checkpoint.",
            exit_code=LOST_WORKER,
        )


def error_log_dir() -> str | None:
    """Where an internal error's traceback goes: the work directory, on the chief only
    (the other workers' go to a temporary file)."""
    if FLAGS.strategy == "multi_worker":
        try:
            if not cluster.from_environment().is_chief:
                return None
        except ConfigError:
            return None
    return FLAGS.workdir or None


def run():
    """The console script's entry point."""
    cli.run(main, error_log_dir=error_log_dir)


if __name__ == "__main__":
    run()
