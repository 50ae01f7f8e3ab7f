"""A trained model's file, read without TensorFlow: where --model points, and is it sound.

The tools that use a trained model (evaluate, sample, export) check their input with
these functions before importing TensorFlow, which writes start-up lines to stderr:
a bad --model ends in one line.

A model.keras file (`language_model.LanguageModel.save`) is a zip archive of
config.json (the model's config, the vocabulary included), metadata.json and
model.weights.h5.

This module does not import TensorFlow.
"""

import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Sequence

from ptb_rnn import files, reader

CONFIG_ENTRY = "config.json"
WEIGHTS_ENTRY = "model.weights.h5"
REGISTERED_NAME = "ptb_rnn>LanguageModel"  # keras.saving's name for LanguageModel
KERAS_SUFFIX = ".keras"  # keras.saving.load_model reads a model file by no other name

TRAIN_ONE = (
    "pass --model=WORKDIR, the work directory of a finished training run (e.g. runs/small "
    "after make train), or --model=FILE, its model.keras"
)


def find(model: str | None) -> str:
    """The model.keras file that --model names: the file itself, or WORKDIR/model.keras.

    Raises:
      reader.DataError: there is no such file, it is not named *.keras, or the work
        directory has no finished model; the message says why and what to pass instead.
    """
    if not model:
        raise reader.DataError(f"no --model given; {TRAIN_ONE}.")
    if os.path.isfile(model):
        if not model.endswith(KERAS_SUFFIX):
            renamed = os.path.splitext(model)[0] + KERAS_SUFFIX
            raise reader.DataError(
                f"--model={model} does not end in {KERAS_SUFFIX}, the only name under which "
                f"Keras reads a model file; rename it, e.g. to {renamed}."
            )
        return model
    if not os.path.isdir(model):
        raise reader.DataError(f"--model={model} does not exist; {TRAIN_ONE}.")
    path = os.path.join(model, files.MODEL_FILE)
    if os.path.isfile(path):
        return path
    if os.path.isfile(os.path.join(model, files.RESULTS_FILE)):
        why = "its run finished before training saved one; train it again with --restart to get one"
    elif os.path.isdir(os.path.join(model, files.CHECKPOINT_DIR)):
        why = (
            "its training has not finished; run the same training command again to "
            "finish it (it resumes from the latest checkpoint)"
        )
    else:
        why = f"it is not the work directory of a training run; {TRAIN_ONE}"
    raise reader.DataError(f"{model} has no {files.MODEL_FILE}: {why}.")


def read_vocabulary(path: str) -> list[str]:
    """The vocabulary of a model.keras file, checking that the file is sound.

    Every entry of the archive is read and checked against its CRC, so that a damaged
    file is refused here rather than half-way through loading.

    Returns:
      The words, in id order.

    Raises:
      reader.DataError: the file is not a zip archive, is damaged, or does not hold a
        ptb_rnn LanguageModel.
    """
    again = "train again, or pass another --model."
    try:
        with zipfile.ZipFile(path) as archive:
            damaged_entry = archive.testzip()
            names = archive.namelist()
            config = json.loads(archive.read(CONFIG_ENTRY)) if CONFIG_ENTRY in names else None
    except (zipfile.BadZipFile, zlib.error, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise reader.DataError(
            f"{path} is not a model.keras file, or it is damaged ({first_line(e)}); {again}"
        ) from None
    except OSError as e:
        raise reader.DataError(f"cannot read {path} ({e.strerror or e}); {again}") from None
    if damaged_entry is not None:
        raise reader.DataError(f"{path} is damaged ({damaged_entry} is corrupt); {again}")
    if config is None or WEIGHTS_ENTRY not in names:
        missing = [name for name in (CONFIG_ENTRY, WEIGHTS_ENTRY) if name not in names]
        raise reader.DataError(
            f"{path} is not a model.keras file (it lacks {', '.join(missing)}); {again}"
        )
    if not isinstance(config, dict) or config.get("registered_name") != REGISTERED_NAME:
        kind = config.get("class_name") if isinstance(config, dict) else None
        raise reader.DataError(
            f"{path} holds a {kind or 'model of another kind'}, not a model saved by "
            f"ptb_rnn's training; {again}"
        )
    vocabulary = (config.get("config") or {}).get("vocabulary")
    if not (
        isinstance(vocabulary, list)
        and vocabulary
        and all(isinstance(word, str) for word in vocabulary)
    ):
        raise reader.DataError(
            f"{path} is damaged (its vocabulary is not a list of words); {again}"
        )
    return vocabulary


def unknown_words(words: Iterable[str], vocabulary: Iterable[str]) -> list[str]:
    """The distinct words not in vocabulary, in the order they first appear."""
    known = set(vocabulary)
    return list(dict.fromkeys(word for word in words if word not in known))


def check_known(words: Sequence[str], vocabulary: Sequence[str]) -> None:
    """Refuses words outside vocabulary when it has no `<unk>` to read them as.

    Raises:
      reader.DataError: naming the unknown words.
    """
    if reader.UNK in vocabulary:
        return
    unknown = unknown_words(words, vocabulary)
    if unknown:
        raise reader.DataError(
            f"{quote_some(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the "
            f"model's vocabulary, which has no {reader.UNK} for unknown words; use words of "
            "its vocabulary."
        )


def quote_some(words: Sequence[str], limit: int = 5) -> str:
    """'a', 'b', 'c' and 2 more: a few words for a message."""
    quoted = ", ".join(repr(word) for word in words[:limit])
    return quoted + (f" and {len(words) - limit} more" if len(words) > limit else "")


def first_line(error: Exception) -> str:
    """The first line of an exception's message."""
    return (str(error).strip().splitlines() or [""])[0]
