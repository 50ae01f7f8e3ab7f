"""Perplexity of any text under a trained model, with the tutorial's test protocol.

    python -m ptb_rnn.evaluate --model=runs/small --text_file=FILE [--per_word=OUT.jsonl]

--model is the work directory of a finished training run (its model.keras) or a
model.keras file. --text_file=- (or /dev/stdin) reads the text from standard input.
The text is read as a PTB split is: words separated by whitespace,
each line end an `<eos>`; a word outside the model's vocabulary is read as `<unk>` and
counted. It is scored at batch size 1 with the state carried through it, the first
word given and every other word predicted (ptb_rnn/evaluate/text.py): on PTB's
ptb.test.txt this prints the test perplexity in the run's results.json.

Prints the number of words, those outside the vocabulary, the text's log-probability
and the perplexity. --per_word also writes one JSON line per predicted word,
{"word": ..., "log_prob": ...} (with "unk": true for a word read as `<unk>`); their
log-probabilities sum to the printed one. It may be a device or a pipe
(--per_word=/dev/stdout), written in place, or a symlink, whose target is written; the
model or the text itself is refused.

Exit codes: 0 done; 2 bad input (the model, the text, a flag): one line on stderr says
what to do, and nothing is written.
"""

from absl import flags

from ptb_rnn import cli, files, reader
from ptb_rnn.model import keras_file

cli.define_model_flag()
flags.DEFINE_string(
    "text_file",
    None,
    "The UTF-8 text to score (- or /dev/stdin: standard input); each line end is read as "
    "<eos>, as in PTB.",
)
flags.DEFINE_string(
    "per_word", None, "Also write each predicted word and its log-probability here (JSON lines)."
)
FLAGS = flags.FLAGS


def read_text(path: str | None, vocabulary: list[str]) -> list[str]:
    """The words of --text_file (standard input for - or /dev/stdin), checked against what
    scoring needs (no TensorFlow here).

    Raises:
      reader.DataError: no such file, a directory, not UTF-8, fewer than two words, or
        words outside a vocabulary without `<unk>`.
    """
    if path is None:
        raise reader.DataError("pass --text_file=FILE, the text to score.")
    words = reader.read_text_file(path)
    if not words:
        raise reader.DataError(f"{path} is empty; give a text with at least two words.")
    if len(words) < 2:
        raise reader.DataError(
            f"{path} has one word; a perplexity needs at least two (the first word is only "
            "read), give a longer text."
        )
    keras_file.check_known(words, vocabulary)
    return words


def main(argv):
    del argv
    path = keras_file.find(FLAGS.model)
    vocabulary = keras_file.read_vocabulary(path)
    if FLAGS.per_word is not None:
        inputs = [("--model", path)]
        if FLAGS.text_file is not None:
            inputs.append(("--text_file", reader.text_file_path(FLAGS.text_file)))
        files.check_output(FLAGS.per_word, "--per_word", "per_word.jsonl", inputs)
    words = read_text(FLAGS.text_file, vocabulary)
    # Imported once the input is known to be good: TensorFlow writes start-up lines to
    # stderr, and a bad input should end in one line.
    from ptb_rnn.evaluate import text
    from ptb_rnn.model import language_model

    score = text.score_text(language_model.load(path), words, per_word=FLAGS.per_word is not None)
    if FLAGS.per_word is not None:
        files.write_text(FLAGS.per_word, text.per_word_jsonl(score))
    print(f"model: {path}\ntext: {FLAGS.text_file}\n{text.summary(score)}")


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
