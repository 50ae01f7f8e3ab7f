"""Shows, with real words, what the batch and time-step tensors of the model hold.

python -m ptb_rnn.shapes --data_path=DIR --batch_size=4 --num_steps=5 [--windows=2]
    [--png=docs/shapes.png] [--format=text|json|html] [--output=FILE] [--words=N]
    [--config=small] [--text_file=FILE]

Folds the training stream (PTB, any corpus in the tutorial's layout, or any text file)
exactly as training does and prints the rows, the first windows, the state carry, the
epoch arithmetic and the tensor shapes through a real model. --output=FILE writes the
output to FILE instead of stdout; --format=html needs it: the page (page.py) folds the
first --words words again in the browser at any batch_size and num_steps. What it
answers: ptb_rnn/shapes/__init__.py and docs/shapes.md; the JSON keys:
ptb_rnn/shapes/describe.py.
"""

import contextlib
import json
import os
import sys

import numpy as np
from absl import flags

from ptb_rnn import cli, files, reader
from ptb_rnn.config import ConfigError
from ptb_rnn.shapes import describe, figure, page, text

FORMATS = ("text", "json", "html")

cli.define_config_flags()
cli.define_data_flags()

flags.DEFINE_integer("windows", 2, "How many windows to show, from the first.")
flags.DEFINE_string(
    "text_file",
    None,
    "Any UTF-8 text file to fold instead of PTB; its vocabulary is built from it.",
)
flags.DEFINE_string("png", None, "Also draw the layout to this PNG file.")
flags.DEFINE_string(
    "format",
    "text",
    f"Output: one of {', '.join(FORMATS)} (a page that folds again in the browser; "
    "needs --output).",
)
flags.DEFINE_string("output", None, "Write the output to this file instead of stdout.")
flags.DEFINE_integer(
    "words",
    None,
    "Fold only the first this many words of the stream. Default: all of them; with "
    f"--format=html, {page.EXCERPT_WORDS:,} (the page embeds them; at most "
    f"{page.MAX_WORDS:,}).",
    lower_bound=1,
)
FLAGS = flags.FLAGS

EXAMPLE_FILES = {"text": "shapes.txt", "json": "shapes.json", "html": "shapes.html"}


def stream_from_flags() -> tuple[np.ndarray, list[str], str]:
    """The training stream the flags name: (ids, id_to_word, where it comes from)."""
    if FLAGS.text_file is not None:
        if FLAGS.data_path is not None or FLAGS.ptb_dir is not None:
            raise reader.DataError("pass either --text_file or --data_path/--ptb_dir, not both.")
        words = reader.read_text_file(FLAGS.text_file)
        word_to_id = reader.build_vocab(words)
        ids, _ = reader.words_to_ids(words, word_to_id)
        return ids, sorted(word_to_id, key=word_to_id.get), FLAGS.text_file
    corpus = cli.corpus_from_flags()
    if FLAGS.data_path is not None:
        source = os.path.join(FLAGS.data_path, reader.split_filename("train"))
    else:
        source = "the PTB training split"
    return corpus.train, corpus.id_to_word, source


def inputs_from_flags() -> list[tuple[str, str]]:
    """The files the flags name to read, (flag, path): what --png must not overwrite."""
    if FLAGS.text_file is not None:
        return [("--text_file", reader.text_file_path(FLAGS.text_file))]
    return [
        (flag, os.path.join(directory, reader.split_filename(split)))
        for flag, directory in (("--data_path", FLAGS.data_path), ("--ptb_dir", FLAGS.ptb_dir))
        if directory is not None
        for split in reader.SPLITS
    ]


def check_output_flags() -> int | None:
    """Refuses --format, --output, --png and --words that cannot work, before any work.

    Returns:
      How many words of the stream to fold: None for all of them.
    """
    if FLAGS.format not in FORMATS:
        raise ConfigError(f"unknown --format={FLAGS.format}; choose one of {', '.join(FORMATS)}.")
    if FLAGS.format == "html" and FLAGS.output is None:
        raise ConfigError(
            "--format=html writes a page to a file; give --output=FILE, e.g. --output=shapes.html."
        )
    if FLAGS.output is not None:
        files.check_output(
            FLAGS.output, "--output", EXAMPLE_FILES[FLAGS.format], inputs_from_flags()
        )
    if FLAGS.png is not None:
        files.check_output(FLAGS.png, "--png", "shapes.png", inputs_from_flags(), suffix=".png")
    if FLAGS.format != "html":
        return FLAGS.words
    if FLAGS.words is not None and FLAGS.words > page.MAX_WORDS:
        raise ConfigError(
            f"--words={FLAGS.words:,} is more than a page embeds; give --words of at most "
            f"{page.MAX_WORDS:,}."
        )
    return FLAGS.words or page.EXCERPT_WORDS


def main(argv):
    """Prints or writes the description of the stream the flags name, and draws it if --png
    is given."""
    del argv
    num_words = check_output_flags()
    config = cli.config_from_flags()
    # Preparing PTB the first time reports progress on stdout, which belongs to the output.
    with contextlib.redirect_stdout(sys.stderr):
        ids, id_to_word, source = stream_from_flags()
    stream_words = len(ids)
    if num_words is not None and num_words < stream_words:
        ids, source = ids[:num_words], f"the first {num_words:,} words of {source}"
    description = describe.describe(ids, id_to_word, config, FLAGS.windows, source)
    if FLAGS.png is not None:
        figure.draw(description, FLAGS.png)
    if FLAGS.format == "html":
        words = [id_to_word[i] for i in ids]
        output = page.render(description, words, ids, stream_words)
    elif FLAGS.format == "json":
        output = json.dumps(description, indent=1)
    else:
        output = text.format_text(description)
    if FLAGS.output is None:
        print(output)
        if FLAGS.png is not None and FLAGS.format == "text":
            print(f"\nFigure: {FLAGS.png}")
        return
    files.write_text(FLAGS.output, output + "\n")
    print(f"Written: {FLAGS.output}" + (f" and {FLAGS.png}" if FLAGS.png is not None else ""))


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
