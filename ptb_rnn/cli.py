"""Flags shared by the command-line tools, and their clean exit on bad input.

Every tool reads the same config and data flags, defined here once:
`--config` picks a preset and `--<field>` overrides any field of it; `--ptb_dir`,
`--data_path` and `--data_dir` choose where the corpus comes from.

A bad input (a flag, the data, the work directory) ends the program with one line on
stderr, `error: <what was wrong and what to do>`, and exit code 2. This module and
what it imports (reader, config, truncation, data) do not import TensorFlow, which
writes start-up lines to stderr when imported; a tool that checks its inputs before
importing it (see train.py) ends a bad input with exactly that one line.
"""

import dataclasses
import os
import sys
from typing import NoReturn

from absl import app, flags, logging

from ptb_rnn import data, reader, truncation
from ptb_rnn.config import CONFIGS, Config, ConfigError, get_config

FLAGS = flags.FLAGS

flags.DEFINE_string("config", "small", f"Preset: one of {', '.join(CONFIGS)}.")
for _field in dataclasses.fields(Config):
    _define = flags.DEFINE_integer if _field.type is int else flags.DEFINE_float
    _define(_field.name, None, f"Overrides the preset's {_field.name}.")

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
flags.DEFINE_string("data_dir", "data", "Where TFDS keeps the prepared PTB dataset.")


def config_from_flags(**overrides) -> Config:
    """The --config preset with --mode's overrides and every given field flag applied."""
    if FLAGS.mode is not None:
        overrides = {**truncation.get_mode(FLAGS.mode)[0], **overrides}
    for field in dataclasses.fields(Config):
        value = FLAGS[field.name].value
        if value is not None:
            overrides[field.name] = value
    return get_config(FLAGS.config, **overrides)


def truncation_from_flags() -> truncation.Truncation:
    """--mode's state handling, with --carry_state and --truncation_schedule applied."""
    result = truncation.TBPTT
    if FLAGS.mode is not None:
        result = truncation.get_mode(FLAGS.mode)[1]
    if FLAGS.carry_state is not None:
        result = dataclasses.replace(result, carry_state=FLAGS.carry_state)
    if FLAGS.truncation_schedule is not None:
        schedule, ramp = truncation.parse_schedule(FLAGS.truncation_schedule)
        result = dataclasses.replace(result, schedule=schedule, ramp=ramp)
    return result


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


def check_workdir(workdir: str) -> None:
    """Refuses a work directory that cannot be created or written, without creating it.

    Raises:
      ConfigError: workdir, or the nearest existing directory above it, is a file or is
        not writable.
    """
    path = os.path.abspath(workdir)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ConfigError(
            f"cannot use --workdir={workdir}: {existing} is a file, not a directory; "
            "choose another --workdir."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot use --workdir={workdir}: {existing} is not writable; choose another --workdir."
        )


def exit_with(message: str, exit_code: int) -> NoReturn:
    """Ends the program with one line on stderr."""
    print(message, file=sys.stderr)
    sys.exit(exit_code)


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Ends the program with `error: <message>` on stderr, by default with exit code 2."""
    exit_with(f"error: {message}", exit_code)


def parse_flags(argv: list[str]) -> list[str]:
    """Parses the flags; a bad flag ends in one line and exit code 2 (absl: two, and 1)."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        fail(f"{e}; see --helpfull for the flags.")


def run(main) -> None:
    """`app.run(main)`, with bad input ending in one clear line instead of a traceback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def guarded_main(argv):
        if len(argv) > 1:
            fail(f"unexpected arguments {' '.join(argv[1:])}; every option is a --flag.")
        try:
            main(argv)
        except (reader.DataError, ConfigError) as e:
            fail(str(e))
        except KeyboardInterrupt:
            exit_with("interrupted.", 130)

    app.run(guarded_main, flags_parser=parse_flags)
