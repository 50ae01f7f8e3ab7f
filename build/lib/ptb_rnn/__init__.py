"""The TensorFlow PTB language-model tutorial in TF 2 and Keras 3 (see README.md).

The package in rooms, in the order data flows through them:

    config.py, reader.py   the tutorial's configs and reader (no TensorFlow)
    truncation.py, spec.py the truncation knobs and one description of a run
    data/                  PTB through TFDS (the builder in data/ptb/), or any corpus
    model/                 the network, its LSTM, softmax and precision, the trained
                           model with its vocabulary (model.keras), sampling, serving
    training/              the compiled steps, the window loop, the trainer and its
                           callbacks, checkpoints, the history, distribution
    evaluate/              the batch-size-1 protocols and scoring any text
    train.py, sample.py, export.py, shapes/, experiments/, bench/   the tools

Importing the package imports neither Keras nor TensorFlow: the command-line tools
check their input first, since importing TensorFlow writes start-up lines to stderr.
"""


def load_model(path: str):
    """Loads a training run's model.keras (`model.language_model.LanguageModel`).

    Args:
      path: a model.keras file, e.g. WORKDIR/model.keras after `make train`.

    Raises:
      reader.DataError: the file cannot be loaded, or holds another kind of model.
    """
    from ptb_rnn.model import language_model  # imports TensorFlow and registers the classes

    return language_model.load(path)
