"""Gets the corpus ready and prints its sizes.

python -m ptb_rnn.data                      # download PTB through TFDS
python -m ptb_rnn.data --ptb_dir=DIR        # the original files, offline
python -m ptb_rnn.data --data_path=DIR      # any corpus in the tutorial's layout
"""

from ptb_rnn import cli, reader

cli.define_data_flags()


def main(argv):
    del argv
    corpus = cli.corpus_from_flags()
    sizes = ", ".join(f"{split} {len(getattr(corpus, split))}" for split in reader.SPLITS)
    print(f"vocabulary {corpus.vocabulary_size} words; words per split: {sizes}")


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
