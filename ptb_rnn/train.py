"""Trains the PTB language model with the tutorial's recipe.

python -m ptb_rnn.train --config=small --workdir=runs/small [--ptb_dir=DIR]
"""

from absl import flags

from ptb_rnn import cli, loop

flags.DEFINE_string("workdir", "runs/default", "Where results.json and summaries go.")
flags.DEFINE_integer("seed", 0, "Seed for initialisation and dropout.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = cli.config_from_flags()
    corpus = cli.corpus_from_flags()
    truncation = cli.truncation_from_flags()
    loop.train_and_evaluate(config, corpus, FLAGS.workdir, seed=FLAGS.seed, truncation=truncation)


def run():
    cli.run(main)


if __name__ == "__main__":
    run()
