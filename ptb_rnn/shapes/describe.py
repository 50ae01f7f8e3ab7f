"""What the shapes tool shows, as numbers and words: the folded corpus and the model.

Everything here comes from the real `reader.ptb_producer` (the rows and windows) and a
real `PTBModel` (the shapes, by calling it; the parameter counts, from its weights).
Nothing is drawn or printed here: `text.py` and `figure.py` render what this module
returns.

`describe` returns the numbers and windows as a dict; `--format=json` prints it:

  source             where the words come from
  vocabulary_size    distinct words in the input
  batch_size, num_steps, corpus_words
  batch_len          corpus_words // batch_size: words per row
  dropped_tail       corpus_words - batch_size * batch_len: words that fill no row
  epoch_size         (batch_len - 1) // num_steps: windows per epoch
  unread_per_row     words at the end of every row that no window reads
  words_per_update   batch_size * num_steps
  updates_per_epoch  epoch_size (one SGD update per window)
  words_per_epoch    words read as x in one epoch
  rows               per row: `start` (its first word's position in the corpus) and
                     `words` (its first words)
  windows            per window shown: `index`, `columns` ([first, last + 1] in the
                     rows), `x`, `y` (words) and `x_ids`, `y_ids`, each [batch_size][num_steps]
  model              `config` (its fields), `tensors` (name, symbols, shape, parameters,
                     holds), `parameters` (per layer and total), `flops_per_word`
                     (forward, forward_backward)
  reading            the plain-language paragraph
"""

import dataclasses

import numpy as np

from ptb_rnn import reader
from ptb_rnn.config import Config, ConfigError


def layout(ids, id_to_word: list[str], batch_size: int, num_steps: int, num_windows: int):
    """How `reader.ptb_producer` folds an id stream, in words.

    Args:
      ids: 1-D int ids, the stream.
      id_to_word: the word of each id.
      batch_size, num_steps: passed to `ptb_producer`.
      num_windows: how many windows to show, from the first; fewer if the epoch is shorter.

    Returns:
      A dict with the keys listed in the module docstring, from `batch_size` to `windows`.

    Raises:
      ConfigError: num_windows is below 1.
      reader.DataError: the stream is too short for one window.
    """
    if num_windows < 1:
        raise ConfigError(f"--windows must be at least 1, got {num_windows}.")
    batches = reader.ptb_producer(ids, batch_size, num_steps)
    shown = min(num_windows, batches.epoch_size)
    # The shown windows read these columns as x, and one more as y.
    columns = shown * num_steps + 1

    def words(id_grid):
        return [[id_to_word[i] for i in row] for row in np.asarray(id_grid).tolist()]

    windows = []
    for i in range(shown):
        x, y = batches.window(i)
        windows.append(
            {
                "index": i,
                "columns": [i * num_steps, (i + 1) * num_steps],
                "x": words(x),
                "y": words(y),
                "x_ids": np.asarray(x).tolist(),
                "y_ids": np.asarray(y).tolist(),
            }
        )
    return {
        "batch_size": batches.batch_size,
        "num_steps": batches.num_steps,
        "corpus_words": len(ids),
        "batch_len": batches.batch_len,
        "dropped_tail": len(ids) - batches.batch_size * batches.batch_len,
        "epoch_size": batches.epoch_size,
        # The last word a window reads is y's last, at column epoch_size * num_steps.
        "unread_per_row": batches.batch_len - 1 - batches.epoch_size * num_steps,
        "words_per_update": batches.batch_size * num_steps,
        "updates_per_epoch": batches.epoch_size,
        "words_per_epoch": batches.epoch_size * batches.batch_size * num_steps,
        # ptb_producer's rows are consecutive slices of batch_len words.
        "rows": [
            {"start": r * batches.batch_len, "words": words([row[:columns]])[0]}
            for r, row in enumerate(batches.data)
        ],
        "windows": windows,
    }


def model_shapes(config: Config) -> dict:
    """The tensor shapes through a real `PTBModel`, its parameter counts and FLOPs.

    Builds the model for `config` and runs one [batch_size, num_steps] window of zeros
    through it (the shapes do not depend on the ids). The embedding and each LSTM layer
    are also called on their own to show their outputs, which the model does not return.

    Returns:
      A dict: `config` (its fields), `tensors` (one entry per tensor: name, symbols
      such as "[B, T, H]", shape, parameters of the layer that makes it, what it holds),
      `parameters` (per layer and total) and `flops_per_word` (forward, and forward
      plus backward).
    """
    # Imported here: TensorFlow takes seconds to import, and bad input should fail at once.
    import tensorflow as tf

    from ptb_rnn.model import softmax
    from ptb_rnn.model.network import PTBModel

    batch_size, num_steps = config.batch_size, config.num_steps
    model = PTBModel(config)
    ids = tf.zeros([batch_size, num_steps], tf.int32)  # (B, T)
    state = model.zero_state(batch_size)
    logits, final_state = model(ids, state)  # (B, T, V), ((B, H), (B, H)) per layer
    loss = softmax.sequence_loss(logits, ids)  # ()
    embeddings = model.embedding(ids)  # (B, T, H)

    parameters = {"embedding": model.embedding.count_params()}
    tensors = [
        {
            "name": "ids",
            "symbols": "[B, T]",
            "shape": ids.shape,
            "holds": "a word id per row and step",
        },
        {
            "name": "embeddings",
            "symbols": "[B, T, H]",
            "shape": embeddings.shape,
            "parameters": parameters["embedding"],
            "holds": "H values per word",
        },
    ]
    outputs = embeddings
    for layer, (h, c), (final_h, final_c) in zip(model.lstm_layers, state, final_state):
        outputs, _, _ = layer(outputs, initial_state=[h, c])
        parameters[layer.name] = layer.count_params()
        tensors += [
            {
                "name": f"{layer.name} outputs",
                "symbols": "[B, T, H]",
                "shape": outputs.shape,
                "parameters": parameters[layer.name],
                "holds": "h at every step",
            },
            {
                "name": f"{layer.name} state h",
                "symbols": "[B, H]",
                "shape": final_h.shape,
                "holds": "h after step T, carried on",
            },
            {
                "name": f"{layer.name} state c",
                "symbols": "[B, H]",
                "shape": final_c.shape,
                "holds": "the cell's memory, carried on",
            },
        ]
    parameters["softmax"] = model.softmax.count_params()
    tensors += [
        {
            "name": "logits",
            "symbols": "[B, T, V]",
            "shape": logits.shape,
            "parameters": parameters["softmax"],
            "holds": "a score per vocabulary word",
        },
        {
            "name": "loss",
            "symbols": "[]",
            "shape": loss.shape,
            "holds": "cross-entropy, sum over T, mean over B",
        },
    ]
    for tensor in tensors:
        tensor["shape"] = [int(d) for d in tensor["shape"]]
        tensor.setdefault("parameters", None)
        tensor.setdefault("holds", "")
    parameters["total"] = model.count_params()
    forward_flops = model.forward_flops_per_word()
    return {
        "config": dataclasses.asdict(config),
        "tensors": tensors,
        "parameters": parameters,
        "flops_per_word": {"forward": forward_flops, "forward_backward": 3 * forward_flops},
    }


def reading(description: dict) -> str:
    """The plain-language paragraph on what batch_size, num_steps and the carry buy."""
    d = description
    batch_size, num_steps = d["batch_size"], d["num_steps"]
    return (
        f"batch_size {batch_size} does not cut sentences into shorter sequences: it cuts the "
        f"corpus into {batch_size} long streams of {d['batch_len']:,} words, read side by "
        f"side, each with its own LSTM state. The {batch_size} rows of a window are "
        f"independent examples whose gradients are averaged into one update; computing them "
        f"together is what makes training fast (one matrix product serves every row), and "
        f"an epoch takes {d['epoch_size']:,} updates of {d['words_per_update']} words. "
        f"num_steps {num_steps} is how many words the LSTM reads, one per row at each time "
        f"step, before the loss is taken and the weights updated: the gradient of a "
        f"window's loss reaches back over at most its {num_steps} input words, the longest "
        f"dependency the training signal can teach directly. The state carry goes the "
        f"other way: row r's final (h, c) is row r's initial (h, c) in the next window, so "
        f"information can flow forward along the whole row of {d['batch_len']:,} words, "
        f"though nothing in the gradient tells the model what to keep for longer than "
        f"{num_steps} steps."
    )


def describe(ids, id_to_word: list[str], config: Config, num_windows: int, source: str = ""):
    """Everything the tool shows, as a dict (keys in the module docstring).

    Args:
      ids: 1-D int ids, the training stream.
      id_to_word: the word of each id.
      config: gives batch_size and num_steps for the layout, and the model.
      num_windows: how many windows to show.
      source: where the words come from, for the reader.
    """
    description = {"source": source, "vocabulary_size": len(id_to_word)}
    description.update(layout(ids, id_to_word, config.batch_size, config.num_steps, num_windows))
    description["model"] = model_shapes(config)
    description["reading"] = reading(description)
    return description
