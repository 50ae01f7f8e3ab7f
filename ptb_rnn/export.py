"""Exports a trained model as a TF SavedModel for serving, the LSTM state passed explicitly.

    python -m ptb_rnn.export --model=runs/small --output=runs/small/saved_model

--model is the work directory of a finished training run (its model.keras) or a
model.keras file. --output must not exist, or be an empty directory. The signatures
(ptb_rnn/model/serving.py) take word strings or ids and the state as flat named tensors:

    step(words[B, T], h0, c0, h1, c1) -> {log_probs[B, T, V], h0, c0, h1, c1}
    step_ids(ids[B, T], h0, c0, h1, c1) -> the same
    initial_state(batch_size) -> {h0, c0, h1, c1}
    vocabulary() -> {words}

Loading it needs TensorFlow only: `tf.saved_model.load(DIR).signatures["step"]`.
For a phone or a browser, the directory also holds model.tflite (TFLite builtin ops only,
one word per call at batch size 1, the state in and out) and vocabulary.txt (the words in
id order, one per line).

The SavedModel is written beside --output under .tmp-PID-NAME and renamed into place; one
left by an export that was killed is removed by the next. Of two exports racing to one
--output, the one that finishes second says so and leaves the first one's SavedModel.
`train --restart` deletes WORKDIR/saved_model with the rest of the earlier run.

Exit codes: 0 done; 2 bad input (the model, --output, another export to it): one line on
stderr says what to do, and nothing is written.
"""

import errno
import os

from absl import flags

from ptb_rnn import cli, files, reader
from ptb_rnn.model import keras_file

cli.define_model_flag()
flags.DEFINE_string(
    "output", None, "The SavedModel directory to write; must not exist, or be empty."
)
FLAGS = flags.FLAGS


def check_output(output: str | None) -> None:
    """Refuses an --output that exists with something in it, or cannot be written.

    Raises:
      reader.DataError, files.WorkdirError: what is wrong, and what to do.
    """
    if not output:
        raise reader.DataError("pass --output=DIR, the directory to write the SavedModel to.")
    if os.path.exists(output) and not (os.path.isdir(output) and not os.listdir(output)):
        raise reader.DataError(
            f"--output={output} exists and is not an empty directory; choose another "
            "--output, or remove it first."
        )
    files.check_writable(os.path.dirname(os.path.abspath(output)), flag="--output")


def write(language_model, output: str) -> None:
    """`serving.export`, after removing what an export killed while writing output left.

    Raises:
      reader.DataError: another process wrote output while this one was writing it.
    """
    from ptb_rnn.model import serving

    files.remove_stale_staging(output)
    try:
        serving.export(language_model, output)
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        raise reader.DataError(
            f"another process wrote --output={output} while this export was writing it, so "
            "this one stopped; use what it wrote, or remove it and export again."
        ) from None


def main(argv):
    del argv
    path = keras_file.find(FLAGS.model)
    keras_file.read_vocabulary(path)
    check_output(FLAGS.output)
    # Imported once the input is known to be good: TensorFlow writes start-up lines to
    # stderr, and a bad input should end in one line.
    from ptb_rnn.model import language_model

    write(language_model.load(path), FLAGS.output)
    print(
        f"SavedModel of {path} written to {FLAGS.output}: signatures step, step_ids, "
        "initial_state, vocabulary; with model.tflite (signature step_one) and "
        "vocabulary.txt (see ptb_rnn/model/serving.py)."
    )


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
