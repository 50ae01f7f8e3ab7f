"""The flags the command-line tools share, and their clean exit on bad input.

Each group of flags is defined here once, and a tool defines only the groups it uses
(so its --help lists exactly its flags): `define_config_flags` (`--config` picks a
preset and `--<field>` overrides any field of it), `define_truncation_flags` (`--mode`,
`--carry_state`, `--truncation_schedule`), `define_run_flags` (`--windows_per_call`,
`--fused_lstm`, `--softmax`, `--precision`, `--initializer`, `--strategy`,
`--cpu_devices`), `define_training_flags` (`--seed`, `--checkpoint_every_steps`,
`--curve_points_per_epoch`, `--deterministic`; `spec_from_flags` builds the `RunSpec`
from these groups), `define_data_flags`
(`--ptb_dir`, `--data_path`, `--data_dir`: where the corpus comes from) and
`define_model_flag` (`--model`). --help lists a tool's flags in these groups, then the
tool's own (`help_text`); the field flags' help is config.py's glossary.

A bad input (a flag, the data, the work directory) ends the program with one line on
stderr, `error: <what was wrong and what to do>`, and exit code 2. This module and
what it imports (reader, config, truncation, spec, data) do not import TensorFlow,
which writes start-up lines to stderr when imported; a tool checks its inputs
(`RunSpec.check`) before importing the modules that do (see train.py), so that a bad
input ends with exactly that one line.
"""

import contextlib
import dataclasses
import logging as std_logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import NoReturn

from absl import app, flags, logging

from ptb_rnn import config as config_module
from ptb_rnn import data, files, reader, truncation
from ptb_rnn.config import CONFIGS, Config, ConfigError, get_config
from ptb_rnn.spec import WINDOWS_PER_CALL, RunSpec

FLAGS = flags.FLAGS

HELP_FLAGS = ("help", "helpshort", "helpfull", "helpxml", "?", "h")
SHORT_HELP_FLAGS = ("help", "helpshort", "?", "h")  # the main module's flags only

# The exit code of an unexpected error (sysexits.h's EX_SOFTWARE): not bad input (2),
# not divergence (1).
INTERNAL_ERROR = 70


# The flags below are defined for the tool that calls a define_* function: they are its
# key flags, which its --help lists, one group per define_* function (see `help_text`).
flags.disclaim_key_flags()
_GROUPS: dict[str, list[str]] = {}  # a group's title in --help -> its flags' names


def _define_once(title: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Makes define_flags run at most once per process (tests import several tools), and
    records the flags it defines as the group `title` of --help."""

    def decorate(define_flags: Callable[[], None]) -> Callable[[], None]:
        def define_for_caller():
            if title not in _GROUPS:
                before = set(FLAGS)
                define_flags()
                _GROUPS[title] = [name for name in FLAGS if name not in before]

        define_for_caller.__doc__ = define_flags.__doc__
        return define_for_caller

    return decorate


def _glossary() -> dict[str, str]:
    """config.py's glossary of the tutorial's field names: field -> what it is."""
    fields = {field.name for field in dataclasses.fields(Config)}
    lines = (line.split(None, 1) for line in (config_module.__doc__ or "").splitlines())
    return {parts[0]: parts[1] for parts in lines if len(parts) == 2 and parts[0] in fields}


@_define_once("config (ptb_rnn/config.py: a preset, any of its fields overridden)")
def define_config_flags() -> None:
    """--config (a preset of config.py) and --<field> for each of its fields."""
    flags.DEFINE_string("config", "small", f"Preset: one of {', '.join(CONFIGS)}.")
    glossary = _glossary()
    for field in dataclasses.fields(Config):
        define = flags.DEFINE_integer if field.type is int else flags.DEFINE_float
        what = glossary[field.name]
        define(field.name, None, f"{what[0].upper()}{what[1:]}. Default: the preset's.")


@_define_once("truncation (ptb_rnn/truncation.py: the window length and the state)")
def define_truncation_flags() -> None:
    """--mode, --carry_state and --truncation_schedule (truncation.py)."""
    flags.DEFINE_string(
        "mode",
        None,
        f"Training mode, one of {', '.join(truncation.MODES)}: sets num_steps and the state "
        "handling (see ptb_rnn/truncation.py); explicit flags override it.",
    )
    flags.DEFINE_boolean(
        "carry_state",
        None,
        "Carry the final LSTM state of a window into the next (gradient stopped at the "
        "edge); --nocarry_state starts every window from zeros. Default: true.",
    )
    flags.DEFINE_string(
        "truncation_schedule",
        None,
        "Window lengths over training: 1,2,5,10,20 = num_steps per epoch (the last repeats); "
        "ramp:1,2,5,10,20 = spread over the whole run, changing inside epochs.",
    )


@_define_once("run (ptb_rnn/spec.py: how the model computes, and where)")
def define_run_flags() -> None:
    """The flags of a RunSpec that decide how a step computes and where it runs
    (spec.py): what `bench` measures."""
    flags.DEFINE_integer(
        "windows_per_call",
        WINDOWS_PER_CALL,
        "Windows per compiled call: fewer calls, less overhead; the numbers do not change.",
        lower_bound=1,
    )
    flags.DEFINE_boolean(
        "fused_lstm",
        True,
        "Use the fused LSTM (model/lstm.py); --nofused_lstm: keras.layers.LSTM.",
    )
    flags.DEFINE_string(
        "softmax",
        "dense",
        "The softmax layer and loss: dense (keras.layers.Dense and automatic gradients) or "
        "fused (model/softmax.py: one function with a hand-written gradient; the same loss).",
    )
    flags.DEFINE_string(
        "precision",
        "float32",
        "float32 (the tutorial's) or mixed_bfloat16: bfloat16 matmul inputs, with float32 "
        "weights, state, softmax, loss and updates (model/precision.py).",
    )
    flags.DEFINE_string(
        "initializer",
        "independent",
        "The initial weights: independent (the tutorial's: each weight its own uniform draw) "
        "or shared (every weight starts with the same leading values, as the runs recorded "
        "in results/ before this option; it reproduces them).",
    )
    flags.DEFINE_string(
        "strategy",
        "one_device",
        "How training is spread (training/replicas.py): one_device; mirrored (this "
        "machine's GPUs, or --cpu_devices logical CPUs); multi_worker (the workers "
        "TF_CONFIG lists, see training/cluster.py). The numbers are the one-device ones, "
        "to float32 rounding.",
    )
    flags.DEFINE_integer(
        "cpu_devices",
        1,
        "With --strategy=mirrored on a machine without GPUs: split the CPU into this many "
        "logical devices, one replica each (to see replicas work on one machine).",
        lower_bound=1,
    )


@_define_once("training (ptb_rnn/spec.py: the seed, checkpoints and measurements of a run)")
def define_training_flags() -> None:
    """The flags of a RunSpec that only a training run uses (spec.py)."""
    flags.DEFINE_integer("seed", 0, "Seed for initialisation and dropout.")
    flags.DEFINE_integer(
        "checkpoint_every_steps",
        500,
        "Save a checkpoint every this many updates (windows) of an epoch, and at its end.",
        lower_bound=1,
    )
    flags.DEFINE_integer(
        "curve_points_per_epoch",
        0,
        "Measure validation perplexity at batch size 1 this many times an epoch during "
        "training (results.json's curve); 0: only at the end.",
        lower_bound=0,
    )
    flags.DEFINE_boolean(
        "deterministic",
        False,
        "Deterministic TensorFlow ops: a resumed run gives bitwise the results of an "
        "uninterrupted one.",
    )


@_define_once("data (ptb_rnn/data/: where the corpus comes from)")
def define_data_flags() -> None:
    """--ptb_dir, --data_path and --data_dir: where the corpus comes from."""
    flags.DEFINE_string(
        "ptb_dir",
        None,
        "Directory with the original ptb.{train,valid,test}.txt, checked against their "
        "SHA-256 sums; nothing is downloaded. Default: download PTB through TFDS.",
    )
    flags.DEFINE_string(
        "data_path",
        None,
        "Directory with any corpus in the tutorial's layout (ptb.train.txt, ptb.valid.txt, "
        "ptb.test.txt), read directly with no checksum.",
    )
    flags.DEFINE_string(
        "data_dir",
        None,
        "Where TFDS keeps the prepared PTB dataset (7.4 MB). Default: where TFDS keeps "
        "every dataset, $TFDS_DATA_DIR, else ~/tensorflow_datasets.",
    )


@_define_once("model (a trained model)")
def define_model_flag() -> None:
    """--model: a trained model, for the tools that use one."""
    flags.DEFINE_string(
        "model",
        None,
        "A finished training run's --workdir (its model.keras), or a model.keras file.",
    )


def config_from_flags(**overrides) -> Config:
    """The --config preset with --mode's window length (for a tool that has --mode) and
    every given field flag applied."""
    config = get_config(FLAGS.config, **overrides)
    if "mode" in FLAGS and FLAGS.mode is not None:
        config = truncation.get_mode(FLAGS.mode).apply(config)
    fields = {f.name: FLAGS[f.name].value for f in dataclasses.fields(Config)}
    return dataclasses.replace(config, **{k: v for k, v in fields.items() if v is not None})


def truncation_from_flags() -> truncation.Truncation:
    """--mode's state handling, with --carry_state and --truncation_schedule applied."""
    result = truncation.TBPTT
    if FLAGS.mode is not None:
        result = truncation.get_mode(FLAGS.mode).truncation
    if FLAGS.carry_state is not None:
        result = dataclasses.replace(result, carry_state=FLAGS.carry_state)
    if FLAGS.truncation_schedule is not None:
        schedule, ramp = truncation.parse_schedule(FLAGS.truncation_schedule)
        result = dataclasses.replace(result, schedule=schedule, ramp=ramp)
    return result


TRAINING_FLAGS = ("seed", "checkpoint_every_steps", "curve_points_per_epoch", "deterministic")


def spec_from_flags(**config_overrides) -> RunSpec:
    """The run the flags describe; config_overrides apply before the field flags.

    A tool without the truncation flags (the experiments, whose modes set their own)
    gets the tutorial's truncation; one without the training flags (bench), RunSpec's
    defaults for them.
    """
    training = {name: FLAGS[name].value for name in TRAINING_FLAGS if name in FLAGS}
    return RunSpec(
        config=config_from_flags(**config_overrides),
        truncation=truncation_from_flags() if "mode" in FLAGS else truncation.TBPTT,
        windows_per_call=FLAGS.windows_per_call,
        fused_lstm=FLAGS.fused_lstm,
        strategy=FLAGS.strategy,
        cpu_devices=FLAGS.cpu_devices,
        softmax=FLAGS.softmax,
        precision=FLAGS.precision,
        initializer=FLAGS.initializer,
        **training,
    )


def corpus_from_flags() -> reader.Corpus:
    """Loads the corpus that --data_path or --ptb_dir (or the default download) names."""
    if FLAGS.data_path is not None and FLAGS.ptb_dir is not None:
        raise reader.DataError("pass either --data_path or --ptb_dir, not both.")
    if FLAGS.data_path is not None:
        corpus = reader.load_corpus(FLAGS.data_path)
    else:
        corpus = data.load_ptb(FLAGS.data_dir, FLAGS.ptb_dir, progress_bar=False)
    for split, count in corpus.unknown_counts.items():
        if count:
            logging.warning(
                "the %s split has %d word%s outside the training vocabulary, read as %s "
                "(the tutorial drops them).",
                split,
                count,
                "" if count == 1 else "s",
                reader.UNK,
            )
    return corpus


def exit_with(message: str, exit_code: int) -> NoReturn:
    """Ends the program with one line on stderr."""
    print(message, file=sys.stderr)
    sys.exit(exit_code)


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Ends the program with `error: <message>` on stderr, by default with exit code 2."""
    exit_with(f"error: {message}", exit_code)


OWN_FLAGS = "this tool's own"


def help_text(module: str) -> str:
    """The flags --help lists for the tool whose key flags module holds, group by group:
    those of each define_* function it called, in the order of this module, then its own."""
    key_flags = FLAGS.get_key_flags_for_module(module)
    names = {flag.name for flag in key_flags}
    grouped = {name for group in _GROUPS.values() for name in group}
    groups = {title: [name for name in group if name in names] for title, group in _GROUPS.items()}
    groups[OWN_FLAGS] = sorted(names - grouped)
    for title, group in groups.items():
        for name in group:
            FLAGS.register_key_flag_for_module(title, FLAGS[name])
    return "\n".join(FLAGS.module_help(title) for title, group in groups.items() if group)


def print_help() -> None:
    """What absl's --help prints (the main module's docstring, then its flags), with the
    flags in their groups."""
    print(f"{sys.modules['__main__'].__doc__}\nflags:\n{help_text(sys.argv[0])}\n")
    print("Try --helpfull to get a list of all flags.")


def parse_flags(argv: list[str]) -> list[str]:
    """Parses the flags; a bad flag ends in one line and exit code 2 (absl: two, and 1),
    and --help in the help, its flags grouped, and exit code 0 (absl: 1)."""
    if any(arg.lstrip("-").split("=")[0] in SHORT_HELP_FLAGS for arg in argv[1:]):
        print_help()
        sys.exit(0)
    try:
        return FLAGS(argv)
    except flags.Error as e:
        fail(f"{e}; see --help for the flags.")
    except SystemExit:
        if any(arg.lstrip("-").split("=")[0] in HELP_FLAGS for arg in argv[1:]):
            sys.exit(0)
        raise


def write_error_log(directory: str | None) -> str:
    """Writes the current exception's traceback to directory/error.log (or a temporary
    file if directory is None or cannot be written) and returns its path."""
    text = traceback.format_exc()
    if directory is not None and os.path.isdir(directory):
        path = os.path.join(directory, files.ERROR_LOG)
        with contextlib.suppress(files.WorkdirError):
            files.write_text(path, text)
            return path
    descriptor, path = tempfile.mkstemp(prefix="ptb_rnn-", suffix=f"-{files.ERROR_LOG}")
    with os.fdopen(descriptor, "w") as f:
        f.write(text)
    return path


def run(main, error_log_dir: Callable[[], str | None] = lambda: None) -> None:
    """`app.run(main)`, with bad input ending in one clear line instead of a traceback.

    Exit codes: 2 for bad input (`reader.DataError`, `ConfigError`), 130 for Ctrl-C, and
    INTERNAL_ERROR for anything unexpected: one line on stderr, the traceback in
    error_log_dir()/error.log (or a temporary file).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tool = sys.modules[main.__module__]
    if tool is not sys.modules["__main__"]:
        # A console script: its --help shows the tool's docstring and flags, as
        # `python -m` does (absl reads both from the main module).
        for flag in FLAGS.get_key_flags_for_module(tool.__name__):
            FLAGS.register_key_flag_for_module(sys.argv[0], flag)
        sys.modules["__main__"].__doc__ = tool.__doc__
    # TensorFlow's own info lines (e.g. one per checkpoint save, "Sharding callback
    # duration") would drown the training log; its warnings stay.
    logging.get_absl_logger().addFilter(
        lambda record: (
            record.levelno >= std_logging.WARNING
            or f"{os.sep}tensorflow{os.sep}" not in record.pathname
        )
    )

    def guarded_main(argv):
        if len(argv) > 1:
            fail(f"unexpected arguments {' '.join(argv[1:])}; every option is a --flag.")
        try:
            main(argv)
        except (reader.DataError, ConfigError) as e:
            fail(str(e))
        except KeyboardInterrupt:
            exit_with("interrupted.", 130)
        except Exception as e:
            path = write_error_log(error_log_dir())
            what = (str(e).strip().splitlines() or [""])[0]
            exit_with(
                f"internal error: {type(e).__name__}: {what}; the traceback is in {path}; "
                "please report it.",
                INTERNAL_ERROR,
            )

    app.run(guarded_main, flags_parser=parse_flags)
