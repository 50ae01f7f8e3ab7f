"""The description of `describe.describe` as one matplotlib figure, written to a PNG."""

from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from ptb_rnn import files
from ptb_rnn.shapes import text

WINDOW_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948")


def draw(description: dict, path: str) -> None:
    """Draws the folded corpus, the windows, the state carry and the [B, T, H] block.

    Args:
      description: from `describe.describe`.
      path: the PNG to write, atomically (`files.atomic_path`: a missing directory is
        created, and a failed write leaves nothing).

    Raises:
      files.WorkdirError: the file could not be written.
    """
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
    with files.atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")


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
        f"{text.word_count(d['dropped_tail'])} at the tail dropped",
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
            f"{tensor['name']:<15} {tensor['symbols']:<10} "
            f"{text.shape_label(tensor['shape']):<15} {params}"
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
