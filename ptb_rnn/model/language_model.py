"""A trained model and its vocabulary in one object and one file: words in, log-probabilities out.

    lm = LanguageModel(network, vocabulary)    # a PTBModel; the words in id order
    lm.save("model.keras")                     # training writes WORKDIR/model.keras
    lm = ptb_rnn.load_model("model.keras")               # or language_model.load
    ids = lm.words_to_ids(["the", "company", "said"])    # (3,) int32, as the reader's
    log_probs, state = lm.log_probs(ids[None], lm.zero_state(1))   # (1, 3, vocab_size)

The file holds the PTBModel's config and weights and the vocabulary; nothing else is
needed to read words and score them. Two things Keras does not do here by itself:

* Building on load: a model whose call takes (ids, state) cannot be built by Keras, and
  would be loaded with its random initial weights; `PTBModel.build_from_config` builds it.
* The word -> id table: `keras.layers.StringLookup` cannot keep the reader's ids and read
  an unknown word as `<unk>` (with an OOV token it inserts index 0 and shifts every id;
  without one an unknown word raises). `table` is a `tf.lookup.StaticHashTable` from the
  vocabulary, whose default is the `<unk>` id, used before the compiled steps (a lookup
  of strings is not something XLA compiles).

Importing this module registers LanguageModel and PTBModel with Keras, so that
`keras.saving.load_model` reads a model.keras after it; `ptb_rnn.load_model` imports it.
"""

import os
import zipfile
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.model import keras_file
from ptb_rnn.model.network import PTBModel, State

# The table's answer for a word outside a vocabulary that has no <unk>.
NOT_FOUND = -1


@keras.saving.register_keras_serializable(package="ptb_rnn")
class LanguageModel(keras.Model):
    """A `PTBModel` with the vocabulary it was trained on.

    Args:
      network: a built PTBModel.
      vocabulary: its words in id order (`Corpus.id_to_word`), each once; at most
        network.config.vocab_size of them.

    Raises:
      reader.DataError: a word is listed twice, or there are more than vocab_size.

    Attributes:
      network: the PTBModel.
      vocabulary: tuple of the words, in id order.
      unk_id: the id of `<unk>`, or None if the vocabulary has no such word.
      table: tf.lookup.StaticHashTable, word -> id; a word not in the vocabulary
        gives unk_id (NOT_FOUND without `<unk>`).
    """

    def __init__(self, network: PTBModel, vocabulary: Sequence[str], **kwargs):
        super().__init__(**kwargs)
        problem = keras_file.vocabulary_problem(vocabulary, network.config.vocab_size)
        if problem:
            raise reader.DataError(f"{problem}.")
        self.network = network
        self.vocabulary = tuple(vocabulary)
        self.unk_id = self.vocabulary.index(reader.UNK) if reader.UNK in self.vocabulary else None
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.vocabulary, tf.string),
                tf.range(len(self.vocabulary), dtype=tf.int32),
            ),
            default_value=NOT_FOUND if self.unk_id is None else self.unk_id,
        )
        self.built = network.built

    def call(self, ids, state: State, training: bool = False):
        """The network's call: (logits (B, T, vocab_size), final state); see PTBModel."""
        return self.network(ids, state, training=training)

    def zero_state(self, batch_size: int) -> State:
        """All-zero (h, c) for every layer, each of shape (batch_size, hidden_size)."""
        return self.network.zero_state(batch_size)

    def words_to_ids(self, words: Sequence[str]) -> np.ndarray:
        """The ids of words, through `table`: the reader's ids, unknown words as `<unk>`.

        Args:
          words: a list of words (`<eos>` for a line end, as `reader.text_to_words` gives).

        Returns:
          (len(words),) int32.

        Raises:
          reader.DataError: a word is not in the vocabulary and it has no `<unk>`.
        """
        ids = self.table.lookup(tf.constant(list(words), tf.string)).numpy()
        if self.unk_id is None and (ids == NOT_FOUND).any():
            keras_file.check_known(words, self.vocabulary)  # raises, naming them
        return ids

    def ids_to_words(self, ids) -> list[str]:
        """The words of a 1-D sequence of ids."""
        return [self.vocabulary[i] for i in np.asarray(ids).reshape(-1)]

    def log_probs(self, ids, state: State):
        """Log-probabilities of the next word after each word, with no dropout.

        Args:
          ids: int ids, (batch_size, num_steps) (a tensor, an array or nested lists).
          state: the (h, c) of each layer to start from.

        Returns:
          (log_probs, final_state): log_probs (batch_size, num_steps, vocab_size), entry
          [b, t, w] = log p(word w follows ids[b, :t + 1] and the state); the state after
          the last step.
        """
        logits, state = self.network(tf.convert_to_tensor(ids, tf.int32), state, training=False)
        return tf.nn.log_softmax(logits), state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "vocabulary": list(self.vocabulary),
            keras_file.VOCABULARY_SIZE: len(self.vocabulary),  # refuses a cut vocabulary
        }

    @classmethod
    def from_config(cls, config: dict) -> "LanguageModel":
        config = dict(config)
        config.pop(keras_file.VOCABULARY_SIZE, None)  # checked by keras_file.read_vocabulary
        network = keras.saving.deserialize_keras_object(config.pop("network"))
        return cls(network, **config)

    def get_build_config(self) -> None:
        """Nothing: the network builds itself on load (`PTBModel.build_from_config`)."""
        return None


def load(path: str) -> LanguageModel:
    """Loads a model.keras file written by training (or `LanguageModel.save`).

    The file is checked first by `keras_file.read_vocabulary`, without building anything.

    Raises:
      reader.DataError: the file cannot be loaded (it is gone or changed while being
        read, e.g. by a training run started over with --restart, or it is damaged), holds
        another kind of model, or was edited into one that cannot run as trained (see
        keras_file).
    """
    before = _stamp(path)
    try:
        keras_file.read_vocabulary(path)
        loaded = keras.saving.load_model(path)
    except (reader.DataError, OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as e:
        if before is None or _stamp(path) != before:
            raise reader.DataError(
                f"{path} was removed or rewritten while it was being read (is a training run "
                "rewriting its work directory, e.g. with --restart?); run the same command "
                "again once the model is written."
            ) from None
        if isinstance(e, reader.DataError):
            raise
        raise reader.DataError(
            f"{path} cannot be loaded ({type(e).__name__}: {keras_file.first_line(e)}); it "
            "is damaged or was not written by ptb_rnn: train again, or pass another --model."
        ) from None
    return loaded  # a LanguageModel: read_vocabulary checked its registered name


def _stamp(path: str) -> tuple[int, int, int] | None:
    """Which file path is and which version of it (inode, size, modification time), or
    None if there is none: training replaces model.keras by renaming a new file onto it."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns
