"""Runs the experiments and writes the report; see ptb_rnn/experiments/__init__.py.

    python -m ptb_rnn.experiments --ptb_dir=DIR [--modes=tbptt,tbptt_k5]
        [--learning_rates=0.5,1,2] [--epochs=2] [--train_fraction=0.1] [--noecho]
        [--output_dir=results]

The config, data and run flags (--config, --seed, --windows_per_call...) are in
ptb_rnn/cli.py; each mode sets its own truncation. Writes OUTPUT_DIR/experiments.md,
OUTPUT_DIR/experiments_ptb.png and OUTPUT_DIR/runs/. Exits with 0 when the report is
written, also if some runs diverged (they show as "diverged" in it).
"""

import dataclasses
import os

from absl import flags

from ptb_rnn import cli, files, truncation
from ptb_rnn.config import ConfigError
from ptb_rnn.experiments import plan

flags.DEFINE_list("modes", list(truncation.MODES), "Training modes to compare on PTB.")
flags.DEFINE_list("learning_rates", ["0.5", "1", "2"], "Learning-rate grid, the same per mode.")
flags.DEFINE_integer(
    "epochs", 2, "Epochs per run (the learning rate is not decayed).", lower_bound=1
)
flags.DEFINE_float("train_fraction", 0.1, "Train on this leading fraction of the training split.")
flags.DEFINE_string("output_dir", "results", "Where experiments.md, the PNG and runs/ go.")
flags.DEFINE_boolean("echo", True, "Also run the synthetic echo task.")
FLAGS = flags.FLAGS

# Flags of cli.py that each mode sets for itself.
TRUNCATION_FLAGS = ("mode", "carry_state", "truncation_schedule")


def parse_learning_rates(texts: list[str]) -> list[float]:
    """The --learning_rates values as numbers, each above 0."""
    try:
        learning_rates = [float(text) for text in texts]
    except ValueError:
        learning_rates = []
    if not learning_rates or not all(lr > 0 for lr in learning_rates):
        raise ConfigError(
            f"cannot read --learning_rates={','.join(texts)}; give numbers above 0 "
            "separated by commas, e.g. 0.5,1,2."
        )
    return learning_rates


def main(argv):
    """Checks every input, trains the runs not done before, and writes the report."""
    del argv
    learning_rates = parse_learning_rates(FLAGS.learning_rates)
    if not 0 < FLAGS.train_fraction <= 1:
        raise ConfigError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
    for name in TRUNCATION_FLAGS:
        if FLAGS[name].present:
            raise ConfigError(
                f"--{name} does not apply to the experiments: each mode sets its own "
                "truncation; choose the modes with --modes."
            )
    files.check_writable(FLAGS.output_dir, "--output_dir")
    base = cli.spec_from_flags()
    runs_dir = os.path.join(FLAGS.output_dir, "runs")
    points = plan.grid_points(base, FLAGS.modes, learning_rates, FLAGS.epochs, runs_dir)
    corpus = None
    if points:
        corpus = cli.corpus_from_flags()
        num_train = int(len(corpus.train) * FLAGS.train_fraction)
        corpus = dataclasses.replace(corpus, train=corpus.train[:num_train])
        for point in points:
            point.spec.check(corpus)
    # Imported once every input is known to be good: TensorFlow writes start-up lines to
    # stderr when imported, and a bad input should end in one line (see cli.py).
    from ptb_rnn.experiments import echo, grid, report

    os.makedirs(FLAGS.output_dir, exist_ok=True)
    ptb_runs = []
    setup = "Setup: echo task only."
    if points:
        ptb_runs = grid.run_grid(points, corpus)
        report.plot_curves(
            grid.best_runs(ptb_runs),
            os.path.join(FLAGS.output_dir, report.PTB_PNG),
            f"PTB, {FLAGS.config} model, {len(corpus.train)} training words x {FLAGS.epochs} "
            "epochs",
        )
        setup = (
            f"Setup: the {FLAGS.config} config, the first {len(corpus.train)} words of the "
            f"training split ({FLAGS.train_fraction:g}), {FLAGS.epochs} epochs at a constant "
            "learning rate picked per mode from "
            f"{{{', '.join(f'{lr:g}' for lr in learning_rates)}}}."
        )
    echo_rows = echo.run_echo(base, runs_dir) if FLAGS.echo else []
    path = os.path.join(FLAGS.output_dir, "experiments.md")
    report.write_report(path, ptb_runs, echo_rows, setup)
    print(f"Wrote {path}")


if __name__ == "__main__":
    cli.run(main)
