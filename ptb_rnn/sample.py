"""Writes text with a trained model: reads a prime, then draws words one at a time.

    python -m ptb_rnn.sample --model=runs/small --prime="the company said" \\
        --num_words=50 --temperature=0.8 --top_k=40 --seed=1 --num_samples=3

--model is the work directory of a finished training run (its model.keras) or a
model.keras file. The prime is read as the start of a sentence (after an `<eos>`;
--noprime_starts_sentence reads it from the zero state) with the state carried, then each
drawn word is fed back in; `<eos>` prints as a line break. How words are drawn
(ptb_rnn/model/sampling.py):

  --temperature  below 1 sharper, above 1 flatter than the model's distribution; 0 is
                 greedy (always the most likely word: several samples are the same
                 text, which a line on stderr says).
  --top_k        draw only among the k most likely words; 0: all; 1 is greedy.
  --seed         the same seed (and model, prime and flags) prints the same text.

Each sample is printed once drawn (samples are drawn sampling.ROWS_PER_BATCH at a time),
so the memory does not grow with --num_samples and Ctrl-C keeps what was printed.

A prime word outside the model's vocabulary is an error that names it (PTB's words are
lower case, numbers are N); write `<unk>` for a word the vocabulary lacks. An empty
prime starts a new sentence.

Exit codes: 0 done; 2 bad input (the model, the prime, a flag): one line on stderr says
what to do.
"""

import sys

from absl import flags

from ptb_rnn import cli, reader
from ptb_rnn.model import keras_file, sampling

cli.define_model_flag()
flags.DEFINE_string(
    "prime", "", "Words to start from (a line break is <eos>); empty: a new sentence."
)
flags.DEFINE_boolean(
    "prime_starts_sentence",
    True,
    "Read the prime as the start of a sentence (after <eos>); false: from the zero state.",
)
flags.DEFINE_integer("num_words", 50, "Words to draw after the prime.")
flags.DEFINE_float(
    "temperature", 1.0, "Sharpen (< 1) or flatten (> 1) the distribution; 0 is greedy."
)
flags.DEFINE_integer("top_k", 0, "Draw only among the k most likely words; 0: all, 1: greedy.")
flags.DEFINE_integer(
    "num_samples", 1, "How many texts to draw (side by side, one batch row each, 256 at most)."
)
flags.DEFINE_integer("seed", 0, "Seeds the draws: the same seed, model and flags, the same text.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    options = sampling.Sampling(
        num_words=FLAGS.num_words,
        temperature=FLAGS.temperature,
        top_k=FLAGS.top_k,
        seed=FLAGS.seed,
        num_samples=FLAGS.num_samples,
        prime_starts_sentence=FLAGS.prime_starts_sentence,
    )
    path = keras_file.find(FLAGS.model)
    prime = reader.text_to_words(FLAGS.prime)
    sampling.check_prime(prime, keras_file.read_vocabulary(path), options.prime_starts_sentence)
    # Imported once the input is known to be good: TensorFlow writes start-up lines to
    # stderr, and a bad input should end in one line.
    from ptb_rnn.model import language_model

    if options.greedy and options.num_samples > 1:
        print(
            f"note: greedy drawing (--temperature=0 or --top_k=1) has no randomness: the "
            f"{options.num_samples} samples are the same text.",
            file=sys.stderr,
        )
    drawn = sampling.samples(language_model.load(path), prime, options)
    for i, words in enumerate(drawn):
        if options.num_samples > 1:
            print(f"--- sample {i + 1} of {options.num_samples} ---")
        print(sampling.to_text(prime + words).rstrip("\n"), flush=True)


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
