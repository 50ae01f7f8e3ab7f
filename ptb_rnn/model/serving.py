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
vocabulary has no `<unk>` refuses it, below).

Loading needs TensorFlow only, not this package:

    served = tf.saved_model.load(directory)
    state = served.signatures["initial_state"](batch_size=tf.constant(1))
    out = served.signatures["step"](words=tf.constant([["the", "company"]]), **state)

`step` and `step_ids` refuse, in the caller's process (tf.errors.InvalidArgumentError), a
state whose batch size is not the words' (TensorFlow would broadcast it), an id outside
[0, number of words) (Keras's embedding would read -1 as the last row), and, in a
vocabulary without `<unk>`, a word outside it.

The directory also holds two files for a phone or a browser, where TensorFlow itself is
not available:

    model.tflite    a TFLite model of builtin ops only, one word per call at batch size 1:
                    step_one(ids: int32 [1, 1], h0, c0, ...: float32 [1, H])
                        -> {log_probs: float32 [1, 1, V], h0, c0, ...}
    vocabulary.txt  the words in id order, one per line (line n: id n)

The signatures above run Keras's time loop over a window of any length, which TFLite's
builtin ops cannot express (it converts only with TensorFlow's own kernels, which the
TFLite runtime of a phone does not have); a window of one word at a fixed batch size is
one unrolled step (lstm.py). A mixed_bfloat16 model's TFLite model computes in float32
(TFLite has no bfloat16 matmul): the same weights, log-probabilities to about 3 digits.
The words are looked up by the caller (TFLite has no builtin string table); the TFLite
model does not check its ids (it reads -1 as the last row; vocab_size or more fails in
its GATHER).
"""

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from ptb_rnn import files, reader
from ptb_rnn.model import precision as precision_lib
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.model.network import PTBModel

TFLITE_FILE = "model.tflite"
VOCABULARY_FILE = "vocabulary.txt"
TFLITE_SIGNATURE = "step_one"


def state_names(num_layers: int) -> list[str]:
    """The names of the state tensors, in the model's order: h0, c0, h1, c1, ..."""
    return [f"{part}{layer}" for layer in range(num_layers) for part in ("h", "c")]


def export(language_model: LanguageModel, directory: str) -> None:
    """Writes the SavedModel, model.tflite and vocabulary.txt to directory, which must not
    exist or be empty.

    The directory is written beside directory under a temporary name and then renamed,
    so that a failure leaves nothing under the final name.
    """
    config = language_model.network.config
    names = state_names(config.num_layers)
    state_specs = [tf.TensorSpec([None, config.hidden_size], tf.float32, name=n) for n in names]

    step = step_function(language_model)
    num_words = len(language_model.vocabulary)

    def step_ids(ids, *flat_state):
        check_batch_size("ids", ids, names, flat_state)
        tf.debugging.assert_greater_equal(
            ids, 0, message=f"ids must be in [0, {num_words}), the ids of the vocabulary"
        )
        tf.debugging.assert_less(
            ids, num_words, message=f"ids must be in [0, {num_words}), the ids of the vocabulary"
        )
        return step(ids, *flat_state)

    def step_words(words, *flat_state):
        check_batch_size("words", words, names, flat_state)
        ids = language_model.table.lookup(words)
        if language_model.unk_id is None:
            tf.debugging.assert_non_negative(
                ids,
                message=f"a word is not in the vocabulary, which has no {reader.UNK} for "
                "unknown words; use words of the vocabulary signature",
            )
        return step(ids, *flat_state)

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
        step_ids,
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
        write_tflite(language_model, os.path.join(staging, TFLITE_FILE))
        with open(os.path.join(staging, VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.writelines(f"{word}\n" for word in language_model.vocabulary)
        os.replace(staging, directory)  # onto an empty directory, or none
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def step_function(language_model: LanguageModel):
    """(ids, h0, c0, h1, c1, ...) -> {log_probs, h0, c0, ...}: `LanguageModel.log_probs`
    with the state as flat named tensors, what every step signature computes."""
    names = state_names(language_model.network.config.num_layers)

    def step(ids, *flat_state):
        state = tuple(zip(flat_state[0::2], flat_state[1::2]))  # ((h0, c0), (h1, c1), ...)
        log_probs, state = language_model.log_probs(ids, state)
        flat_state = [tensor for pair in state for tensor in pair]
        return {"log_probs": log_probs, **dict(zip(names, flat_state))}

    return step


def check_batch_size(input_name: str, inputs, names: list[str], flat_state) -> None:
    """Asserts that every state tensor has one row per row of inputs (B of [B, T])."""
    for name, tensor in zip(names, flat_state):
        tf.debugging.assert_equal(
            tf.shape(tensor)[0],
            tf.shape(inputs)[0],
            message=f"{name} must have one row per row of {input_name} (the batch size); pass "
            "the state of the previous call, or the state initial_state gives for this batch size",
        )


def write_tflite(language_model: LanguageModel, path: str) -> None:
    """Writes the TFLite model `step_one` (see the module docstring) to path.

    It is converted from a SavedModel of the network alone, written to a temporary
    directory: the word table's initializer would need TensorFlow's kernels.
    """
    language_model = float32_copy(language_model)
    config = language_model.network.config
    names = state_names(config.num_layers)
    archive = keras.export.ExportArchive()
    archive.track(language_model.network)
    archive.add_endpoint(
        TFLITE_SIGNATURE,
        step_function(language_model),
        input_signature=[
            tf.TensorSpec([1, 1], tf.int32, name="ids"),
            *[tf.TensorSpec([1, config.hidden_size], tf.float32, name=n) for n in names],
        ],
    )
    with tempfile.TemporaryDirectory() as directory:
        archive.write_out(directory, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            directory, signature_keys=[TFLITE_SIGNATURE]
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        model = converter.convert()
    with open(path, "wb") as f:
        f.write(model)


def float32_copy(language_model: LanguageModel) -> LanguageModel:
    """language_model itself in float32; a mixed_bfloat16 one as a float32 model with
    the same weights."""
    network = language_model.network
    if network.precision == precision_lib.FLOAT32:
        return language_model
    copy = PTBModel.from_config({**network.get_config(), "precision": precision_lib.FLOAT32})
    copy.build_for(1)
    copy.set_weights(network.get_weights())
    return LanguageModel(copy, language_model.vocabulary)
