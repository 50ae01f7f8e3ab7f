"""A TF SavedModel for serving: words or ids in, log-probabilities out, the state explicit.

A stateful LSTM (`stateful=True`) cannot be served: its state would live in the server,
shared by every client. This model's state is an argument and a result of every call,
so the SavedModel takes it in and gives it back as flat named tensors, and the client
carries it from one call to the next. With B the batch size, T the words per call, V
vocab_size, H hidden_size and L layers:

    step(words: string [B, T], h0, c0, ..., h{L-1}, c{L-1}: float32 [B, H])
        -> {log_probs: float32 [B, T, V], h0, c0, ..., h{L-1}, c{L-1}}
    step_ids(ids: int32 [B, T], h0, c0, ...) -> the same
    initial_state(batch_size: int32 []) -> {h0, c0, ...}: all zeros
    vocabulary() -> {words: string [number of words]}: the words in id order

log_probs[b, t, w] is log p(word w follows words[b, :t + 1] and the state given); the
h*, c* returned are the state after the last word. `step` is also `serving_default`.
Words go through the model's table (`LanguageModel.table`, tracked explicitly so that
the SavedModel holds it): a word outside the vocabulary is read as `<unk>` (a model whose
vocabulary has no `<unk>` fails on it).

Loading needs TensorFlow only, not this package:

    served = tf.saved_model.load(directory)
    state = served.signatures["initial_state"](batch_size=tf.constant(1))
    out = served.signatures["step"](words=tf.constant([["the", "company"]]), **state)
"""

import os
import shutil

import keras
import tensorflow as tf

from ptb_rnn import files
from ptb_rnn.model.language_model import LanguageModel


def state_names(num_layers: int) -> list[str]:
    """The names of the state tensors, in the model's order: h0, c0, h1, c1, ..."""
    return [f"{part}{layer}" for layer in range(num_layers) for part in ("h", "c")]


def export(language_model: LanguageModel, directory: str) -> None:
    """Writes the SavedModel to directory, which must not exist or be empty.

    The SavedModel is written beside directory under a temporary name and then renamed,
    so that a failure leaves nothing under the final name.
    """
    config = language_model.network.config
    names = state_names(config.num_layers)
    state_specs = [tf.TensorSpec([None, config.hidden_size], tf.float32, name=n) for n in names]

    def step(ids, *flat_state):
        state = tuple(zip(flat_state[0::2], flat_state[1::2]))  # ((h0, c0), (h1, c1), ...)
        log_probs, state = language_model.log_probs(ids, state)
        flat_state = [tensor for pair in state for tensor in pair]
        return {"log_probs": log_probs, **dict(zip(names, flat_state))}

    def step_words(words, *flat_state):
        return step(language_model.table.lookup(words), *flat_state)

    def initial_state(batch_size):
        zeros = tf.zeros(tf.stack([batch_size, config.hidden_size]))
        return {name: zeros for name in names}

    archive = keras.export.ExportArchive()
    archive.track(language_model)
    archive.track(language_model.table)  # not a Keras weight: ExportArchive would miss it
    archive.add_endpoint(
        "step",
        step_words,
        input_signature=[tf.TensorSpec([None, None], tf.string, name="words"), *state_specs],
    )
    archive.add_endpoint(
        "step_ids",
        step,
        input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids"), *state_specs],
    )
    archive.add_endpoint(
        "initial_state",
        initial_state,
        input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")],
    )
    archive.add_endpoint(
        "vocabulary",
        lambda: {"words": tf.constant(language_model.vocabulary, tf.string)},
        input_signature=[],
    )
    staging = files.staging_path(directory)
    try:
        archive.write_out(staging, verbose=False)
        os.replace(staging, directory)  # onto an empty directory, or none
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
