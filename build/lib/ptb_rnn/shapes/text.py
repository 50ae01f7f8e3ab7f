"""The description of `describe.describe` as plain text, as the tool prints it."""

import textwrap

MAX_WIDTH = 120  # x and y grids side by side up to this many characters, else one above the other


def word_count(count: int) -> str:
    """A count of words in English, e.g. "1 word", "1,234 words"."""
    return f"{count:,} word" if count == 1 else f"{count:,} words"


def shape_label(shape: list[int]) -> str:
    """A tensor shape as printed, e.g. "[3, 2, 7]"; a scalar's is "[] (scalar)"."""
    return "[" + ", ".join(f"{d:,}" for d in shape) + "]" if shape else "[] (scalar)"


def _grid_lines(words: list[list[str]]) -> list[str]:
    """Rows of words with each column padded to its widest word."""
    widths = [max(len(row[t]) for row in words) for t in range(len(words[0]))]
    return [" ".join(w.ljust(width) for w, width in zip(row, widths)).rstrip() for row in words]


def format_text(description: dict) -> str:
    """The description from `describe.describe` as the tool prints it in the terminal."""
    d = description
    batch_size, num_steps, batch_len = d["batch_size"], d["num_steps"], d["batch_len"]
    out = [
        f"Input: {d['source']}: {d['corpus_words']:,} words, {d['vocabulary_size']:,} distinct.",
        "",
        "1. The stream folded into [batch_size, batch_len] = "
        f"{shape_label([batch_size, batch_len])}",
        f"   {d['corpus_words']:,} words -> {batch_size} rows of {batch_len:,} consecutive words.",
        f"   Dropped at the tail, too few to fill a row: {word_count(d['dropped_tail'])}. "
        f"Never read at the end of each row: {word_count(d['unread_per_row'])}.",
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
        x_head = f"x {shape_label([batch_size, num_steps])}: inputs"
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
    shapes = max(len(shape_label(t["shape"])) for t in model["tensors"])
    for tensor in model["tensors"]:
        params = f"{tensor['parameters']:,} params" if tensor["parameters"] else ""
        line = (
            f"   {tensor['name']:{names}}  {tensor['symbols']:{symbols}}  "
            f"{shape_label(tensor['shape']):{shapes}}  {params:>16}  {tensor['holds']}"
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
