"""Runs the experiments and writes the report; see ptb_rnn/experiments/__init__.py.

    python -m ptb_rnn.experiments --ptb_dir=DIR [--modes=tbptt,tbptt_k5]
        [--learning_rates=0.5,1,2,4,8] [--epochs=2] [--train_fraction=0.1] [--noecho]
        [--output_dir=results] [--notrain]
    python -m ptb_rnn.experiments --full --ptb_dir=DIR [--modes=...] [--second_seed_modes=...]
        [--notrain] [--measure_speeds]
    python -m ptb_rnn.experiments --study=layout --ptb_dir=DIR [--layout_batch_sizes=1,4,20,64]
        [--layout_num_steps=1,5,20,35] [--notrain] [--measure_speeds]

The config, data and run flags (--config, --seed, --windows_per_call...) are in
ptb_rnn/cli.py; each mode sets its own truncation. Writes OUTPUT_DIR/experiments.md,
OUTPUT_DIR/experiments_ptb.png and OUTPUT_DIR/runs/; with --study=layout (batch size
against time steps, layout.py), OUTPUT_DIR/layout.md, its PNGs and OUTPUT_DIR/layout/.
Exits with 0 when the report is written, also if some runs diverged (they show as
"diverged" in it), and with 2 before anything trains when a run's directory holds another
run (other settings, another corpus; the message names what differs and the directory).
"""

import dataclasses
import os

from absl import flags

from ptb_rnn import cli, files, truncation
from ptb_rnn.config import ConfigError
from ptb_rnn.experiments import layout, plan, results, speeds

cli.define_config_flags()
cli.define_run_flags()
cli.define_training_flags()
cli.define_data_flags()
flags.DEFINE_enum(
    "study",
    "bptt",
    ["bptt", "layout"],
    "bptt: the training modes compared (why backpropagate through time?); layout: batch "
    "size against time steps, their speed and what each learns (layout.py).",
)
flags.DEFINE_list("modes", list(truncation.MODES), "Training modes to compare on PTB.")
flags.DEFINE_list(
    "learning_rates",
    ["0.5", "1", "2", "4", "8"],
    "Learning-rate grid, the same per mode: wide enough that no mode's pick on PTB sits at "
    "its edge. With --study=layout: each setting's first grid (default "
    f"{','.join(f'{lr:g}' for lr in layout.START_LEARNING_RATES)}), extended while its pick "
    "sits on an edge.",
)
flags.DEFINE_integer(
    "epochs",
    2,
    "Epochs per run (the learning rate is not decayed). With --study=layout: default "
    f"{layout.EPOCHS}.",
    lower_bound=1,
)
flags.DEFINE_float(
    "train_fraction",
    0.1,
    "Train on this leading fraction of the training split. With --study=layout: default "
    f"{layout.TRAIN_FRACTION:g}.",
)
flags.DEFINE_string(
    "output_dir",
    "results",
    "Where experiments.md, the PNG and runs/ go (--study=layout: layout.md, its PNGs, layout/).",
)
flags.DEFINE_boolean("echo", True, "Also run the synthetic echo task.")
flags.DEFINE_boolean(
    "full",
    False,
    "Instead of the grid: every mode on all of PTB for 6 epochs (constant rate for 2, then "
    "halved each epoch) at the rate the grid in OUTPUT_DIR/runs picked for it; writes "
    "OUTPUT_DIR/full_scale.md, two PNGs and OUTPUT_DIR/full/. --modes defaults to "
    f"{','.join(plan.FULL_MODES)}.",
)
flags.DEFINE_boolean(
    "train",
    True,
    "Train the runs not finished yet; --notrain writes the report from those that have "
    "ended (e.g. while others still train), training none.",
)
flags.DEFINE_boolean(
    "measure_speeds",
    False,
    "With --full: time training at each window length the runs use, on this machine, and "
    "write OUTPUT_DIR/full/speeds.json; the report then gives every run's training time at "
    "these speeds instead of its own clock. With --study=layout: time every setting of "
    "--speed_batch_sizes and --speed_num_steps, write OUTPUT_DIR/layout/speeds.json and time "
    "the learning runs at those speeds. Run it with nothing else running.",
)
flags.DEFINE_list(
    "second_seed_modes",
    list(plan.SECOND_SEED_MODES),
    "With --full: the modes also run with seed 1, to compare with seed noise.",
)
flags.DEFINE_list(
    "layout_batch_sizes",
    [str(b) for b in layout.LEARNING_BATCH_SIZES],
    "With --study=layout: the batch sizes trained, at the config's num_steps.",
)
flags.DEFINE_list(
    "layout_num_steps",
    [str(t) for t in layout.LEARNING_NUM_STEPS],
    "With --study=layout: the window lengths trained, at the config's batch_size.",
)
flags.DEFINE_list(
    "speed_batch_sizes",
    [str(b) for b in layout.SPEED_BATCH_SIZES],
    "With --study=layout --measure_speeds: the batch sizes timed, at the config's num_steps.",
)
flags.DEFINE_list(
    "speed_num_steps",
    [str(t) for t in layout.SPEED_NUM_STEPS],
    "With --study=layout --measure_speeds: the window lengths timed, at the config's batch_size.",
)
FLAGS = flags.FLAGS

SPEED_ROUNDS = 5  # timings of each window length with --measure_speeds


def parse_positive(texts: list[str], flag: str, kind: type = float) -> list:
    """The values of a list flag (--learning_rates, --layout_batch_sizes...) as numbers
    above 0: floats, or whole numbers with kind=int."""
    try:
        values = [kind(text) for text in texts]
    except ValueError:
        values = []
    if not values or not all(value > 0 for value in values):
        what, example = ("whole numbers", "1,4,20") if kind is int else ("numbers", "0.5,1,2")
        raise ConfigError(
            f"cannot read --{flag}={','.join(texts)}; give {what} above 0 separated by "
            f"commas, e.g. {example}."
        )
    return values


def main(argv):
    """Checks every input, trains the runs not done before, and writes the report."""
    del argv
    if FLAGS.study == "layout":
        layout_study()
        return
    learning_rates = parse_positive(FLAGS.learning_rates, "learning_rates")
    if not 0 < FLAGS.train_fraction <= 1:
        raise ConfigError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
    if FLAGS.measure_speeds and not FLAGS.full:
        raise ConfigError("--measure_speeds applies only with --full or --study=layout.")
    files.check_writable(FLAGS.output_dir, "--output_dir")
    base = cli.spec_from_flags()
    runs_dir = os.path.join(FLAGS.output_dir, "runs")
    if FLAGS.full:
        full_scale(base, runs_dir)
        return
    points = plan.grid_points(base, FLAGS.modes, learning_rates, FLAGS.epochs, runs_dir)
    corpus = None
    if points:
        corpus = cli.corpus_from_flags()
        num_train = int(len(corpus.train) * FLAGS.train_fraction)
        corpus = dataclasses.replace(corpus, train=corpus.train[:num_train])
        for point in points:
            point.spec.check(corpus)
            results.check_same_run(point.spec, corpus, point.workdir, FLAGS.train)
    # Imported once every input is known to be good: TensorFlow writes start-up lines to
    # stderr when imported, and a bad input should end in one line (see cli.py).
    from ptb_rnn.experiments import echo, grid, report

    echo_runs = echo.echo_runs(base, runs_dir) if FLAGS.echo else []
    for run in echo_runs:
        results.check_same_run(run.spec, run.corpus, run.workdir, FLAGS.train)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    ptb_runs = []
    setup = "Setup: echo task only."
    if points:
        ptb_runs = grid.run_grid(points, corpus) if FLAGS.train else results.read_ended(points)
        report.plot_curves(
            results.best_runs(ptb_runs),
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
    echo_rows = echo.run_echo(echo_runs, FLAGS.train)
    path = os.path.join(FLAGS.output_dir, "experiments.md")
    report.write_report(path, ptb_runs, echo_rows, setup)
    print(f"Wrote {path}")


def full_scale(base, runs_dir: str) -> None:
    """Trains the full-scale runs not done before and writes full_scale.md and its PNGs."""
    for name in ("epochs", "train_fraction", "learning_rates"):
        if FLAGS[name].present:
            raise ConfigError(
                f"--{name} does not apply with --full: all of PTB, {plan.FULL_EPOCHS} epochs, "
                "at the learning rate the grid picked."
            )
    modes = FLAGS.modes if FLAGS["modes"].present else list(plan.FULL_MODES)
    picks = results.best_runs(results.read_grid(runs_dir, modes))
    learning_rates = {run.mode: run.learning_rate for run in picks}
    missing = [mode for mode in modes if mode not in learning_rates]
    if missing:
        raise ConfigError(
            f"no learning rate picked for {', '.join(missing)} in {runs_dir}; run the grid "
            f"for them first: python -m ptb_rnn.experiments --modes={','.join(missing)}."
        )
    full_dir = os.path.join(FLAGS.output_dir, "full")
    points = plan.full_points(base, learning_rates, modes, FLAGS.second_seed_modes, full_dir)
    speeds_path = os.path.join(full_dir, speeds.SPEEDS_FILE)
    measured = None if FLAGS.measure_speeds else speeds.read(speeds_path)
    corpus = cli.corpus_from_flags()
    for point in points:
        point.spec.check(corpus)
        results.check_same_run(point.spec, corpus, point.workdir, FLAGS.train)
    from ptb_rnn.experiments import grid, report  # TensorFlow, once the input is good

    runs = grid.run_grid(points, corpus) if FLAGS.train else results.read_ended(points)
    runs = [run for run in runs if not run.diverged]
    if FLAGS.measure_speeds:
        measured = speeds.measure([point.spec for point in points], SPEED_ROUNDS)
        files.write_json(speeds_path, measured)
    cost = (
        f"As run, the {len(runs)} runs took "
        f"{sum(r.history.train_seconds[-1] for r in runs) / 3600:.1f} h of training and "
        f"{sum(r.history.wall_seconds for r in runs) / 3600:.1f} h in all."
    )
    if measured is None:
        timing = (
            "Training times: each run's own clock, comparable only between runs that had the "
            "machine to themselves."
        )
    else:
        batch_len = len(corpus.train) // base.config.batch_size
        runs = [
            dataclasses.replace(run, history=speeds.retime(run.history, measured, batch_len))
            for run in runs
        ]
        timing = (
            f"Training times: each run's windows at the training speeds in {speeds_path} "
            "(words/s per window length, measured by --full --notrain --measure_speeds with "
            f"nothing else running, on {_machine(measured['machine'])}), so that they compare "
            "across runs."
        )
    title = f"PTB, {FLAGS.config} model, {plan.FULL_EPOCHS} epochs of {len(corpus.train)} words"
    for x, name in report.FULL_PNGS.items():
        report.plot_full_curves(runs, os.path.join(FLAGS.output_dir, name), x, title)
    machines = sorted({_machine(run.history.machine) for run in runs})
    setup = (
        f"Setup: the {FLAGS.config} config on all of PTB ({len(corpus.train)} training words an "
        f"epoch), {plan.FULL_EPOCHS} epochs for every mode: the learning rate the grid in "
        f"{runs_dir}/ picked for the mode, constant for {plan.FULL_CONSTANT_EPOCHS} epochs, "
        f"then halved each epoch. Seed 0; seed 1 too for {', '.join(FLAGS.second_seed_modes)}. "
        f"Machine: {'; '.join(machines) or 'none yet'}. Command: python -m "
        "ptb_rnn.experiments --full --ptb_dir=DIR.\n\n"
        f"{timing} {cost}"
    )
    path = os.path.join(FLAGS.output_dir, report.FULL_REPORT)
    report.write_full_report(path, runs, setup)
    print(f"Wrote {path}")


def layout_study() -> None:
    """Trains the layout study's runs not done before, with --measure_speeds times every
    setting, and writes layout.md and its PNGs."""
    for name in ("full", "modes", "second_seed_modes", "echo"):
        if FLAGS[name].present:
            raise ConfigError(f"--{name} does not apply with --study=layout.")
    sizes = {
        name: parse_positive(FLAGS[name].value, name, int)
        for name in (
            "layout_batch_sizes",
            "layout_num_steps",
            "speed_batch_sizes",
            "speed_num_steps",
        )
    }
    learning_rates = list(layout.START_LEARNING_RATES)
    if FLAGS["learning_rates"].present:
        learning_rates = parse_positive(FLAGS.learning_rates, "learning_rates")
    train_fraction = layout.TRAIN_FRACTION
    if FLAGS["train_fraction"].present:
        train_fraction = FLAGS.train_fraction
    if not 0 < train_fraction <= 1:
        raise ConfigError(f"--train_fraction must be in (0, 1], got {train_fraction}.")
    epochs = FLAGS.epochs if FLAGS["epochs"].present else layout.EPOCHS
    files.check_writable(FLAGS.output_dir, "--output_dir")
    base = cli.spec_from_flags()
    if not FLAGS["curve_points_per_epoch"].present:
        base = dataclasses.replace(base, curve_points_per_epoch=layout.CURVE_POINTS_PER_EPOCH)
    learning = layout.sweeps(base.config, sizes["layout_batch_sizes"], sizes["layout_num_steps"])
    timed = layout.sweeps(base.config, sizes["speed_batch_sizes"], sizes["speed_num_steps"])
    layout_dir = os.path.join(FLAGS.output_dir, layout.LAYOUT_DIR)
    speeds_path = os.path.join(layout_dir, speeds.SPEEDS_FILE)
    measured = None if FLAGS.measure_speeds else layout.read_speeds(speeds_path)
    corpus = cli.corpus_from_flags()
    num_train = int(len(corpus.train) * train_fraction)
    corpus = dataclasses.replace(corpus, train=corpus.train[:num_train])
    settings = layout.unique_settings(learning)
    for setting in settings:
        point = layout.learning_point(base, setting, learning_rates[0], epochs, layout_dir)
        point.spec.check(corpus)
    for setting in layout.unique_settings(timed):
        layout.setting_spec(base, setting).check_computation()
    from ptb_rnn.experiments import layout_report  # TensorFlow, once the input is good

    os.makedirs(FLAGS.output_dir, exist_ok=True)
    searches = layout.run_searches(
        base, settings, learning_rates, epochs, layout_dir, corpus if FLAGS.train else None
    )
    if FLAGS.measure_speeds:
        measured = layout.measure_speeds(base, layout.unique_settings(timed), SPEED_ROUNDS)
        files.write_json(speeds_path, measured)
    if measured is None:
        timing = (
            "Training times: each run's own clock (its compiled calls only), comparable only "
            "between runs that had the machine to themselves."
        )
    else:
        searches = layout.retime_searches(searches, measured, len(corpus.train))
        timing = (
            f"Training times: each run's words at the median speed of its setting in "
            f"{speeds_path} (measured by {layout.MEASURE_AGAIN} on "
            f"{_machine(measured['machine'])}), so that they compare across runs."
        )
        layout_report.plot_speeds(
            timed,
            measured,
            os.path.join(FLAGS.output_dir, layout_report.SPEED_PNG),
            f"{FLAGS.config} model, training speed on {_machine(measured['machine'])}",
        )
    title = f"PTB, {FLAGS.config} model, {epochs} epoch(s) of {len(corpus.train)} words"
    for x, name in layout_report.LEARNING_PNGS.items():
        layout_report.plot_learning(
            learning, searches, os.path.join(FLAGS.output_dir, name), x, title
        )
    finished = [run for search in searches for run in search.runs if not run.diverged]
    machines = sorted({_machine(run.history.machine) for run in finished})
    cost = (
        f"As run, the {len(finished)} finished runs took "
        f"{sum(run.history.wall_seconds for run in finished) / 3600:.2f} h in all."
    )
    setup = (
        f"Setup: the {FLAGS.config} config, the first {len(corpus.train)} words of the training "
        f"split ({train_fraction:g}), {epochs} epoch(s) at a constant learning rate for every "
        "setting: the rate with the lowest final validation perplexity of a grid that starts "
        f"at {{{', '.join(f'{lr:g}' for lr in learning_rates)}}} and grows by a factor "
        f"{layout.GRID_FACTOR:g} beyond the edge its pick sits on (diverged runs count as the "
        f"worst; at most {layout.MAX_EXTENSIONS} rates added). Validation perplexity at batch "
        "size 1, the state carried, "
        f"{base.curve_points_per_epoch} times an epoch. Seed {base.seed}. Machine: "
        f"{'; '.join(machines) or 'none yet'}. Command: python -m ptb_rnn.experiments "
        "--study=layout --ptb_dir=DIR.\n\n"
        f"{timing} {cost}"
    )
    path = os.path.join(FLAGS.output_dir, layout_report.REPORT)
    layout_report.write_report(path, timed, searches, measured, setup)
    print(f"Wrote {path}")


def _machine(machine: dict) -> str:
    return f"{machine.get('cpu')} (CPU family {machine.get('cpu_family')})"


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
