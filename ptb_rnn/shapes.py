"""Shows, with real words, what the batch and time-step tensors of the model hold.

python -m ptb_rnn.shapes --data_path=DIR --batch_size=4 --num_steps=5 [--windows=2]
    [--png=docs/shapes.png] [--format=json] [--config=small] [--text_file=FILE]

It answers two questions that come up when learning RNNs:

* "Is batch_size a way of cutting a long sequence into shorter ones?" No: `ptb_producer`
  cuts the corpus into batch_size long rows, read side by side as independent streams.
* "If the cell is fed one word at a time, why are there time steps?" The LSTM layer
  runs its cell num_steps times per call, one word per row each time; num_steps is how
  many of those steps one window holds, and so how far back the gradient reaches.

Everything shown comes from the real `reader.ptb_producer` (the rows and windows) and a
real `PTBModel` (the shapes, by calling it; the parameter counts, from its weights).

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

import contextlib
import dataclasses
import json
import os
import sys
import textwrap

import numpy as np
from absl import flags
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from ptb_rnn import cli, reader
from ptb_rnn.config import Config, ConfigError

FORMATS = ("text", "json")
WINDOW_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948")  # figure
MAX_WIDTH = 120  # x and y grids side by side up to this many characters, else one above the other

flags.DEFINE_integer("windows", 2, "How many windows to show, from the first.")
flags.DEFINE_string(
    "text_file",
    None,
    "Any UTF-8 text file to fold instead of PTB; its vocabulary is built from it.",
)
flags.DEFINE_string("png", None, "Also draw the layout to this PNG file.")
flags.DEFINE_string("format", "text", f"Output: one of {', '.join(FORMATS)}.")
FLAGS = flags.FLAGS


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

    from ptb_rnn import loop
    from ptb_rnn.model import PTBModel

    batch_size, num_steps = config.batch_size, config.num_steps
    model = PTBModel(config)
    ids = tf.zeros([batch_size, num_steps], tf.int32)  # (B, T)
    state = model.zero_state(batch_size)
    logits, final_state = model(ids, state)  # (B, T, V), ((B, H), (B, H)) per layer
    loss = loop.sequence_loss(logits, ids)  # ()
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


def _words(count: int) -> str:
    return f"{count:,} word" if count == 1 else f"{count:,} words"


def _grid_lines(words: list[list[str]]) -> list[str]:
    """Rows of words with each column padded to its widest word."""
    widths = [max(len(row[t]) for row in words) for t in range(len(words[0]))]
    return [" ".join(w.ljust(width) for w, width in zip(row, widths)).rstrip() for row in words]


def _shape(shape: list[int]) -> str:
    return "[" + ", ".join(f"{d:,}" for d in shape) + "]" if shape else "[] (scalar)"


def format_text(description: dict) -> str:
    """The description as the tool prints it in the terminal."""
    d = description
    batch_size, num_steps, batch_len = d["batch_size"], d["num_steps"], d["batch_len"]
    out = [
        f"Input: {d['source']}: {d['corpus_words']:,} words, {d['vocabulary_size']:,} distinct.",
        "",
        f"1. The stream folded into [batch_size, batch_len] = {_shape([batch_size, batch_len])}",
        f"   {d['corpus_words']:,} words -> {batch_size} rows of {batch_len:,} consecutive words.",
        f"   Dropped at the tail, too few to fill a row: {_words(d['dropped_tail'])}. "
        f"Never read at the end of each row: {_words(d['unread_per_row'])}.",
        "   Each row is its own stream, read left to right; row r+1 starts where row r ends.",
        "",
    ]
    last = d["corpus_words"] - d["dropped_tail"] - 1
    start_width = len(f"{last:,}")
    for r, row in enumerate(d["rows"]):
        first = f"{row['start']:,}".rjust(start_width)
        end = f"{row['start'] + batch_len - 1:,}".rjust(start_width)
        more = " ..." if batch_len > len(row["words"]) else ""
        out.append(f"   row {r} (words {first} to {end}): {' '.join(row['words'])}{more}")

    out += [
        "",
        f"2. Windows: x = columns [i*{num_steps}, (i+1)*{num_steps}) of every row, "
        "y = x shifted one word to the right",
    ]
    row_label = len(f"row {batch_size - 1}")
    for window in d["windows"]:
        i = window["index"]
        first, stop = window["columns"]
        x_lines, y_lines = _grid_lines(window["x"]), _grid_lines(window["y"])
        x_width = max(len(line) for line in x_lines)
        x_head = f"x {_shape([batch_size, num_steps])}: inputs"
        y_head = "y: targets (the next word of each x)"
        x_width = max(x_width, len(x_head))
        out += ["", f"   window {i} (columns {first} to {stop - 1})"]
        if i == 0:
            out.append("   initial state: zeros (the start of the epoch)")
        labels = [f"     {f'row {r}':{row_label}}  " for r in range(batch_size)]
        if len(labels[0]) + x_width + 3 + max(len(line) for line in y_lines) <= MAX_WIDTH:
            out.append(f"     {'':{row_label}}  {x_head:{x_width}}   {y_head}")
            out += [f"{a}{x:{x_width}}   {y}" for a, x, y in zip(labels, x_lines, y_lines)]
        else:
            out.append(f"     {x_head}")
            out += [a + x for a, x in zip(labels, x_lines)]
            out.append(f"     {y_head}")
            out += [a + y for a, y in zip(labels, y_lines)]
        if i + 1 < d["epoch_size"]:
            out.append(
                f"   state carry into window {i + 1}, row by row (rows never exchange state):"
            )
            for r, row in enumerate(window["x"]):
                out.append(
                    f"     row {r}: its (h, c) after {row[-1]!r} is its initial (h, c) in "
                    f"window {i + 1}, which starts at {window['y'][r][-1]!r}"
                )
    shown = len(d["windows"])
    if shown < d["epoch_size"]:
        out.append(f"   ... and so on to window {d['epoch_size'] - 1:,}, the last of the epoch.")

    out += [
        "",
        "3. One epoch",
        f"   batch_len         = {d['corpus_words']:,} // {batch_size}"
        f" = {batch_len:,} words per row",
        f"   epoch_size        = (batch_len - 1) // num_steps = {batch_len - 1:,} // {num_steps}"
        f" = {d['epoch_size']:,} windows",
        f"   words per update  = batch_size x num_steps = {batch_size} x {num_steps}"
        f" = {d['words_per_update']:,}",
        f"   updates per epoch = epoch_size = {d['updates_per_epoch']:,} "
        f"({d['words_per_epoch']:,} words read as x)",
    ]

    model = d["model"]
    config = model["config"]
    out += [
        "",
        f"4. Tensor shapes through the model ({config['num_layers']} LSTM layer(s)): "
        f"B = batch_size = {config['batch_size']}, T = num_steps = {config['num_steps']},",
        f"   H = hidden_size = {config['hidden_size']}, V = vocab_size = {config['vocab_size']:,}",
    ]
    if config["vocab_size"] != d["vocabulary_size"]:
        out[-1] += f" (the config's; the input has {d['vocabulary_size']:,} distinct words)"
    names = max(len(t["name"]) for t in model["tensors"])
    symbols = max(len(t["symbols"]) for t in model["tensors"])
    shapes = max(len(_shape(t["shape"])) for t in model["tensors"])
    for tensor in model["tensors"]:
        params = f"{tensor['parameters']:,} params" if tensor["parameters"] else ""
        line = (
            f"   {tensor['name']:{names}}  {tensor['symbols']:{symbols}}  "
            f"{_shape(tensor['shape']):{shapes}}  {params:>16}  {tensor['holds']}"
        )
        out.append(line.rstrip())
    flops = model["flops_per_word"]
    out += [
        f"   parameters in all: {model['parameters']['total']:,}",
        f"   FLOPs per word: {flops['forward']:,} forward, about "
        f"{flops['forward_backward']:,} forward and backward (~3x);",
        "   forward = 2 per multiply-add: 2*(in+H)*4H per LSTM layer + 2*H*V for the softmax",
        "",
        "5. Reading the numbers",
    ]
    out += textwrap.wrap(d["reading"], 91, initial_indent="   ", subsequent_indent="   ")
    return "\n".join(out)


def draw(description: dict, path: str) -> None:
    """Draws the folded corpus, the windows, the state carry and the [B, T, H] block.

    Args:
      description: from `describe`.
      path: the PNG to write; its directory must exist.

    Raises:
      reader.DataError: the directory of path does not exist.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise reader.DataError(f"cannot write {path}: {directory} does not exist.")
    d = description
    columns = len(d["rows"][0]["words"])
    width = min(max(14.0, 2.5 + 1.05 * columns), 40.0)
    rows_height = 0.55 * d["batch_size"] + 1.2
    block_height = max(4.2, 0.35 * d["batch_size"] + 2.0)
    fig = Figure(figsize=(width, 1.6 + rows_height + block_height))
    grid = fig.add_gridspec(
        3, 2, height_ratios=[1.6, rows_height, block_height], width_ratios=[1.2, 1]
    )
    _draw_stream(fig.add_subplot(grid[0, :]), d)
    _draw_rows(fig.add_subplot(grid[1, :]), d)
    _draw_block(fig.add_subplot(grid[2, 0]), d)
    _draw_numbers(fig.add_subplot(grid[2, 1]), d)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _colour(i: int) -> str:
    return WINDOW_COLOURS[i % len(WINDOW_COLOURS)]


def _short(word: str, limit: int = 10) -> str:
    return word if len(word) <= limit else word[: limit - 1] + "…"


def _draw_stream(ax, d: dict) -> None:
    """The whole stream as one bar cut into batch_size rows, and the dropped tail."""
    batch_size, batch_len, total = d["batch_size"], d["batch_len"], d["corpus_words"]
    for r in range(batch_size):
        shade = "#d9d9d9" if r % 2 == 0 else "#bdbdbd"
        ax.barh(0, batch_len, left=r * batch_len, height=0.6, color=shade, edgecolor="black")
        first_words = " ".join(d["rows"][r]["words"][:3])
        ax.text(
            (r + 0.5) * batch_len,
            0,
            f"row {r}: {batch_len:,} words\n{first_words} ...",
            ha="center",
            va="center",
            parse_math=False,
        )
    if d["dropped_tail"]:
        ax.barh(0, d["dropped_tail"], left=batch_size * batch_len, height=0.6, color="#e15759")
    ax.annotate(
        f"{_words(d['dropped_tail'])} at the tail dropped",
        xy=(total, -0.3),
        xytext=(total, -0.75),
        ha="right",
        va="top",
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_xlim(0, total)
    ax.set_ylim(-1.1, 0.6)
    ax.axis("off")
    ax.set_title(
        f"1. batch_size = {batch_size} cuts the training stream ({total:,} words, "
        f"read left to right) into {batch_size} long rows, not into short sentences",
        loc="left",
        fontsize=12,
    )


def _draw_rows(ax, d: dict) -> None:
    """The first words of every row, coloured by window, with x/y boxes and the carry."""
    batch_size, num_steps = d["batch_size"], d["num_steps"]
    columns = len(d["rows"][0]["words"])
    gap = 0.8  # room between windows for the state arrows

    def left(t: int) -> float:
        return t + gap * (t // num_steps)

    for r, row in enumerate(d["rows"]):
        y = batch_size - 1 - r
        for t, word in enumerate(row["words"]):
            window = t // num_steps
            shown = window < len(d["windows"])
            ax.add_patch(
                Rectangle(
                    (left(t), y + 0.05),
                    0.95,
                    0.9,
                    facecolor=_colour(window) if shown else "#eeeeee",
                    alpha=0.35 if shown else 1.0,
                )
            )
            ax.text(
                left(t) + 0.47,
                y + 0.5,
                _short(word),
                ha="center",
                va="center",
                fontsize=8,
                parse_math=False,
            )
        ax.text(
            -0.2, y + 0.5, f"row {r}\nword {row['start']:,}", ha="right", va="center", fontsize=9
        )
        if d["batch_len"] > columns:
            ax.text(left(columns - 1) + 1.1, y + 0.5, "...", va="center", fontsize=10)
    for window in d["windows"]:
        i = window["index"]
        first, stop = window["columns"]
        colour = _colour(i)
        # x: solid box on columns [first, stop); y: dashed box one column to the right.
        x0, x1 = left(first), left(stop - 1) + 0.95
        ax.add_patch(
            Rectangle(
                (x0 - 0.04, -0.04),
                x1 - x0 + 0.08,
                batch_size + 0.08,
                fill=False,
                edgecolor=colour,
                linewidth=2.5,
            )
        )
        y0, y1 = left(first + 1), left(stop) + 0.95
        ax.add_patch(
            Rectangle(
                (y0 + 0.06, 0.1),
                y1 - y0 - 0.12,
                batch_size - 0.2,
                fill=False,
                edgecolor=colour,
                linewidth=1.5,
                linestyle="--",
            )
        )
        ax.text(x0, batch_size + 0.15, f"x{i}", color=colour, fontsize=11, weight="bold")
        ax.text(
            y1,
            -0.15,
            f"y{i} = x{i} shifted one word right",
            color=colour,
            fontsize=9,
            ha="right",
            va="top",
        )
        if i + 1 < d["epoch_size"] and stop < columns:
            for r in range(batch_size):
                y = batch_size - 1 - r + 0.5
                ax.annotate(
                    "",
                    xy=(left(stop) - 0.02, y),
                    xytext=(left(stop - 1) + 0.97, y),
                    arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 1.5},
                )
            ax.text(
                left(stop) - gap / 2 - 0.02,
                batch_size + 0.5,
                "state (h, c)",
                ha="center",
                va="bottom",
                fontsize=9,
            )
    ax.set_xlim(-2.2, left(columns - 1) + 2)
    ax.set_ylim(-0.8, batch_size + 1.0)
    ax.axis("off")
    ax.set_title(
        f"2. The first words of each row, in windows of num_steps = {num_steps}. Each window "
        "is one update: solid box x = inputs [B, T], dashed box y = targets [B, T].\n"
        "    Arrows: row r's final state (h, c) is row r's initial state in the next window; "
        "rows never exchange state.",
        loc="left",
        fontsize=12,
    )


def _draw_block(ax, d: dict) -> None:
    """The embedded input x0 as a 3-D block [B, T, H], one time step highlighted."""
    batch_size, num_steps = d["batch_size"], d["num_steps"]
    hidden_size = d["model"]["config"]["hidden_size"]
    x0 = d["windows"][0]["x"]
    depth = 4.0  # drawn depth of the H axis
    dx, dy = 0.45, 0.35  # oblique direction of the depth axis, per unit
    step = min(2, num_steps - 1)  # the time step shown as one slice

    def face(points, **kwargs):
        ax.add_patch(Polygon(points, closed=True, **kwargs))

    cell_width = 1.6  # room for a word; rows are 1 high, row 0 on top
    for r in range(batch_size):
        for t in range(num_steps):
            y = batch_size - 1 - r
            colour = "#f28e2b" if t == step else "#a0cbe8"
            face(
                [
                    (t * cell_width, y),
                    ((t + 1) * cell_width, y),
                    ((t + 1) * cell_width, y + 1),
                    (t * cell_width, y + 1),
                ],
                facecolor=colour,
                edgecolor="black",
                linewidth=0.8,
            )
            if batch_size > 8 or num_steps > 8:
                continue  # too many cells to write words in
            ax.text(
                (t + 0.5) * cell_width,
                y + 0.5,
                _short(x0[r][t], 9),
                ha="center",
                va="center",
                fontsize=8,
                parse_math=False,
            )
    depth_x, depth_y = depth * dx, depth * dy
    top = batch_size
    for t in range(num_steps):
        colour = "#f28e2b" if t == step else "#d4e6f4"
        face(
            [
                (t * cell_width, top),
                ((t + 1) * cell_width, top),
                ((t + 1) * cell_width + depth_x, top + depth_y),
                (t * cell_width + depth_x, top + depth_y),
            ],
            facecolor=colour,
            edgecolor="black",
            linewidth=0.8,
        )
    right = num_steps * cell_width
    for r in range(batch_size):
        face(
            [
                (right, r),
                (right + depth_x, r + depth_y),
                (right + depth_x, r + 1 + depth_y),
                (right, r + 1),
            ],
            facecolor="#7fa7cc",
            edgecolor="black",
            linewidth=0.8,
        )
    for k in range(1, 4):
        f = k / 4
        ax.plot(
            [right + depth_x * f] * 2,
            [depth_y * f, batch_size + depth_y * f],
            color="black",
            lw=0.4,
        )
        ax.plot([depth_x * f, right + depth_x * f], [top + depth_y * f] * 2, color="black", lw=0.4)
    ax.annotate("", xy=(-0.3, 0), xytext=(-0.3, batch_size), arrowprops={"arrowstyle": "->"})
    ax.text(
        -0.5,
        batch_size / 2,
        f"B = batch_size = {batch_size}\n(rows)",
        ha="right",
        va="center",
        fontsize=10,
    )
    ax.annotate("", xy=(right, -0.3), xytext=(0, -0.3), arrowprops={"arrowstyle": "->"})
    ax.text(
        right / 2,
        -0.5,
        f"T = num_steps = {num_steps} (time steps)",
        ha="center",
        va="top",
        fontsize=10,
    )
    ax.annotate(
        "",
        xy=(right + depth_x + 0.15, depth_y - 0.1),
        xytext=(right + 0.15, -0.1),
        arrowprops={"arrowstyle": "->"},
    )
    ax.text(
        right + depth_x / 2 + 0.4,
        -0.2 + depth_y / 2,
        f"H = hidden_size = {hidden_size}\nvalues per word",
        va="top",
        fontsize=10,
    )
    ax.text(
        (step + 0.5) * cell_width + depth_x / 2,
        top + depth_y + 0.25,
        f"time step {step}: the LSTM cell gets this [B, H] = [{batch_size}, {hidden_size}] "
        "slice,\none word per row; it runs T times per window",
        ha="center",
        va="bottom",
        fontsize=9,
        color="#b85c00",
    )
    ax.set_xlim(-3.8, right + depth_x + 3.0)
    ax.set_ylim(-1.5, top + depth_y + 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        "3. Window x0 after the embedding: a block batch x time steps x values per step",
        loc="left",
        fontsize=12,
    )


def _draw_numbers(ax, d: dict) -> None:
    """The epoch arithmetic and the model's shapes as text."""
    model = d["model"]
    lines = [
        f"batch_len = {d['corpus_words']:,} // {d['batch_size']} = {d['batch_len']:,}",
        f"epoch_size = (batch_len - 1) // {d['num_steps']} = {d['epoch_size']:,}",
        f"words per update = {d['batch_size']} x {d['num_steps']} = {d['words_per_update']}",
        f"updates per epoch = {d['updates_per_epoch']:,}",
        "",
    ]
    for tensor in model["tensors"]:
        params = f"{tensor['parameters']:,} params" if tensor["parameters"] else ""
        lines.append(
            f"{tensor['name']:<15} {tensor['symbols']:<10} {_shape(tensor['shape']):<15} {params}"
        )
    flops = model["flops_per_word"]
    lines += [
        "",
        f"parameters: {model['parameters']['total']:,}",
        f"FLOPs per word: {flops['forward']:,} forward, ~{flops['forward_backward']:,} "
        "with backward",
    ]
    ax.text(
        0,
        1,
        "\n".join(lines),
        va="top",
        family="monospace",
        fontsize=9.5,
        parse_math=False,
        transform=ax.transAxes,
    )
    ax.axis("off")
    ax.set_title("4. The numbers", loc="left", fontsize=12)


def stream_from_flags() -> tuple[np.ndarray, list[str], str]:
    """The training stream the flags name: (ids, id_to_word, where it comes from)."""
    if FLAGS.text_file is not None:
        if FLAGS.data_path is not None or FLAGS.ptb_dir is not None:
            raise reader.DataError("pass either --text_file or --data_path/--ptb_dir, not both.")
        if not os.path.isfile(FLAGS.text_file):
            raise reader.DataError(
                f"--text_file={FLAGS.text_file} does not exist; give the path of a text file."
            )
        words = reader.read_words(FLAGS.text_file)
        word_to_id = reader.build_vocab(words)
        ids, _ = reader.words_to_ids(words, word_to_id)
        return ids, sorted(word_to_id, key=word_to_id.get), FLAGS.text_file
    corpus = cli.corpus_from_flags()
    if FLAGS.data_path is not None:
        source = os.path.join(FLAGS.data_path, reader.split_filename("train"))
    else:
        source = "the PTB training split"
    return corpus.train, corpus.id_to_word, source


def main(argv):
    del argv
    if FLAGS.format not in FORMATS:
        raise ConfigError(f"unknown --format={FLAGS.format}; choose one of {', '.join(FORMATS)}.")
    config = cli.config_from_flags()
    # Preparing PTB the first time reports progress on stdout, which belongs to the output.
    with contextlib.redirect_stdout(sys.stderr):
        ids, id_to_word, source = stream_from_flags()
    description = describe(ids, id_to_word, config, FLAGS.windows, source)
    if FLAGS.png:
        draw(description, FLAGS.png)
    if FLAGS.format == "json":
        print(json.dumps(description, indent=1))
    else:
        print(format_text(description))
        if FLAGS.png:
            print(f"\nFigure: {FLAGS.png}")


if __name__ == "__main__":
    cli.run(main)
