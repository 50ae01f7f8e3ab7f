"""Flags shared by the command-line tools, and their clean exit on bad input.

Every tool reads the same config and data flags, defined here once:
`--config` picks a preset and `--<field>` overrides any field of it; `--ptb_dir`,
`--data_path` and `--data_dir` choose where the corpus comes from.
"""

import dataclasses
import os
import sys

from absl import app, flags

from ptb_rnn import reader, truncation
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
        return reader.load_corpus(FLAGS.data_path)
    # Imported here: TFDS is slow to import and --data_path does not need it.
    import tensorflow_datasets as tfds

    from ptb_rnn import data

    tfds.disable_progress_bar()
    return data.load_ptb(FLAGS.data_dir, FLAGS.ptb_dir)


def fail(message: str) -> None:
    """Ends the program with one line on stderr and exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


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

    app.run(guarded_main)
