"""What the layout study measured (layout.py), as layout.md and PNGs beside it.

    # Batch size and time steps, measured
    Setup: ...
    ## Training speed                                  speed_table, SPEED_PNG
    ## Learning at equal words                         learning_table, curve_table, WORDS_PNG
    ## Learning at equal time                          time_table, SECONDS_PNG

Perplexities are validation perplexities at batch size 1 with the state carried through
the whole split (the tutorial's protocol), each setting at its picked learning rate.
"""

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from ptb_rnn import files
from ptb_rnn.experiments import layout
from ptb_rnn.experiments.layout import Search, Setting
from ptb_rnn.experiments.report import PERPLEXITY_TICKS

REPORT = "layout.md"
SPEED_PNG = "layout_speed.png"
# Validation perplexity against training words and against training seconds.
LEARNING_PNGS = {"words": "layout_words.png", "train_seconds": "layout_seconds.png"}
SWEEP_TITLES = {"batch_size": "batch_size (num_steps {})", "num_steps": "num_steps (batch_size {})"}


def _fixed(settings: list[Setting], sweep: str) -> int:
    """The value the sweep holds fixed: num_steps of a batch_size sweep, and the reverse."""
    return settings[0].num_steps if sweep == "batch_size" else settings[0].batch_size


def roof_words_per_second(row: dict, matmul_gflops: float) -> float:
    """The words/s of a speeds.json row's step if it ran at the matmul rate."""
    return matmul_gflops * 1e9 / row["flops_per_word"]


def speed_table(settings: list[Setting], sweep: str, measured: dict) -> list[str]:
    """Markdown: each setting's training words/s (median of the rounds), the slowest and
    fastest round, the speed over the first setting's, updates/s, and the share of the
    words/s at the matmul rate. A setting not measured shows "–"."""
    rows = {(row["batch_size"], row["num_steps"]): row for row in measured["speeds"]}
    medians = layout.speed_table(measured)
    first = medians.get(settings[0])
    lines = [
        f"| {sweep} | words/s | slowest–fastest round | vs {sweep} {getattr(settings[0], sweep)} "
        "| updates/s | of the matmul rate |",
        "|---|---|---|---|---|---|",
    ]
    for setting in settings:
        value = getattr(setting, sweep)
        if setting not in medians:
            lines.append(f"| {value} | – | – | – | – | – |")
            continue
        row = rows[setting.batch_size, setting.num_steps]
        median = medians[setting]
        roof = roof_words_per_second(row, measured["matmul_gflops"])
        ratio = "–" if first is None else f"{median / first:.2f}x"
        lines.append(
            f"| {value} | {median:.0f} | {min(row['words_per_second']):.0f}–"
            f"{max(row['words_per_second']):.0f} | {ratio} "
            f"| {median / (setting.batch_size * setting.num_steps):.1f} | {median / roof:.0%} |"
        )
    return lines


def _grid_cell(search: Search) -> str:
    best = search.best
    cells = []
    for run in search.runs:
        value = "diverged" if run.diverged else f"{run.history.eval['carried']['valid']:.1f}"
        cell = f"{run.learning_rate:g}: {value}"
        cells.append(f"**{cell}**" if run is best else cell)
    return ", ".join(cells)


def learning_table(searches: list[Search]) -> list[str]:
    """Markdown: each setting's pick, where it lies in its grid, every rate tried, and the
    pick's final perplexities, updates, words and training minutes."""
    lines = [
        "| batch_size | num_steps | lr | pick in grid | valid at each lr tried "
        "| valid | test | updates | words | train min |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for search in searches:
        setting, best = search.setting, search.best
        position = search.position if search.finished else f"{search.position} (unfinished)"
        start = f"| {setting.batch_size} | {setting.num_steps} "
        if best is None:
            lines.append(f"{start}| – | {position} | {_grid_cell(search)} | – | – | – | – | – |")
            continue
        h = best.history
        carried = h.eval["carried"]
        updates = h.words_so_far // (setting.batch_size * setting.num_steps)
        lines.append(
            f"{start}| {best.learning_rate:g} | {position} | {_grid_cell(search)} "
            f"| {carried['valid']:.1f} | {carried['test']:.1f} | {updates} "
            f"| {h.words_so_far} | {h.train_seconds[-1] / 60:.1f} |"
        )
    return lines


def _picked(searches: list[Search]) -> list[Search]:
    return [search for search in searches if search.best is not None]


def curve_table(searches: list[Search]) -> list[str]:
    """Markdown: each pick's validation perplexity at its curve points, the columns
    headed by the points' median words over the settings."""
    picked = _picked(searches)
    points = min((len(s.best.history.curve) for s in picked), default=0)
    words = [np.median([s.best.history.curve[i]["words"] for s in picked]) for i in range(points)]
    lines = [
        "| batch_size | num_steps | lr | "
        + " | ".join(f"{w / 1e6:.3f}M words" for w in words)
        + " |",
        "|---|---|---|" + "---|" * points,
    ]
    for search in picked:
        curve = search.best.history.curve[:points]
        lines.append(
            f"| {search.setting.batch_size} | {search.setting.num_steps} "
            f"| {search.best.learning_rate:g} | "
            + " | ".join(f"{point['carried']:.1f}" for point in curve)
            + " |"
        )
    return lines


def equal_time(searches: list[Search]) -> float | None:
    """The training seconds of the pick that finished its words first: the time at which
    time_table compares them; None if nothing was picked."""
    return min((s.best.history.train_seconds[-1] for s in _picked(searches)), default=None)


def time_table(searches: list[Search]) -> list[str]:
    """Markdown: each pick's training minutes for all its words, and its validation
    perplexity at the last curve point within `equal_time` (and that point's words)."""
    seconds = equal_time(searches)
    lines = [
        "| batch_size | num_steps | lr | train min for all words "
        f"| valid by {(seconds or 0) / 60:.1f} min | at words |",
        "|---|---|---|---|---|---|",
    ]
    for search in _picked(searches):
        h = search.best.history
        within = [point for point in h.curve if point["train_seconds"] <= seconds * (1 + 1e-9)]
        reached = (
            ("no point yet", "–")
            if not within
            else (f"{within[-1]['carried']:.1f}", str(within[-1]["words"]))
        )
        lines.append(
            f"| {search.setting.batch_size} | {search.setting.num_steps} "
            f"| {search.best.learning_rate:g} | {h.train_seconds[-1] / 60:.1f} "
            f"| {reached[0]} | {reached[1]} |"
        )
    return lines


def plot_speeds(by_sweep: dict, measured: dict, path: str, title: str) -> None:
    """Draws words/s against each sweep's value (log axes), the rounds' range as error
    bars, with the words/s at the matmul rate as a dashed line, to a PNG.

    Args:
      by_sweep: `layout.sweeps`.
      measured: a speeds.json dict.
      path: the PNG, written atomically.
      title: the figure's title.
    """
    rows = {(row["batch_size"], row["num_steps"]): row for row in measured["speeds"]}
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    for axes, (sweep, settings) in zip(panels, by_sweep.items()):
        found = [s for s in settings if (s.batch_size, s.num_steps) in rows]
        xs = [getattr(s, sweep) for s in found]
        rates = [rows[s.batch_size, s.num_steps]["words_per_second"] for s in found]
        medians = np.array([np.median(r) for r in rates])
        spread = [medians - [min(r) for r in rates], [max(r) for r in rates] - medians]
        axes.errorbar(xs, medians, yerr=spread, marker="o", capsize=3, label="measured")
        roofs = [
            roof_words_per_second(rows[s.batch_size, s.num_steps], measured["matmul_gflops"])
            for s in found
        ]
        axes.plot(
            xs,
            roofs,
            linestyle="--",
            color="grey",
            label=f"at the 4096³ float32 matmul rate ({measured['matmul_gflops']:.0f} GFLOP/s)",
        )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(xs, [str(x) for x in xs])
        axes.xaxis.set_minor_formatter(ticker.NullFormatter())
        axes.set_xlabel(SWEEP_TITLES[sweep].format(_fixed(settings, sweep)))
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    panels[0].set_ylabel("training words/s")
    figure.suptitle(title)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def plot_learning(by_sweep: dict, searches: list[Search], path: str, x: str, title: str) -> None:
    """Draws each pick's validation perplexity (carried) during training, one panel per
    sweep, to a PNG.

    Args:
      by_sweep: `layout.sweeps`.
      searches: from `layout.run_searches`.
      path: the PNG, written atomically.
      x: "words" (training words so far) or "train_seconds" (training time so far).
      title: the figure's title.
    """
    picks = {s.setting: s.best for s in _picked(searches)}
    figure = Figure(figsize=(12, 5), layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    for axes, (sweep, settings) in zip(panels, by_sweep.items()):
        for setting in settings:
            if setting not in picks:
                continue
            run = picks[setting]
            curve = run.history.curve
            xs = np.array([point[x] for point in curve], np.float64)
            xs = xs / 1e6 if x == "words" else xs / 60
            axes.plot(
                xs,
                [point["carried"] for point in curve],
                marker="o",
                label=f"{setting.label} (lr {run.learning_rate:g})",
            )
        axes.set_xlabel(
            "training words (millions)"
            if x == "words"
            else "training minutes (evaluation excluded)"
        )
        axes.set_title(SWEEP_TITLES[sweep].format(_fixed(settings, sweep)) + " sweep")
        axes.set_yscale("log")
        axes.set_yticks(PERPLEXITY_TICKS, [str(tick) for tick in PERPLEXITY_TICKS])
        axes.yaxis.set_minor_formatter(ticker.NullFormatter())
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8, title="batch_size x num_steps")
    panels[0].set_ylabel("validation perplexity (batch size 1, state carried)")
    figure.suptitle(title)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def write_report(
    path: str,
    speed_sweeps: dict,
    searches: list[Search],
    measured: dict | None,
    setup: str,
) -> None:
    """Writes layout.md (atomically), linking to the PNGs beside it.

    Args:
      path: the markdown file.
      speed_sweeps: `layout.sweeps` of the timed settings.
      searches: from `layout.run_searches`.
      measured: the speeds.json dict; None: no speed section.
      setup: the paragraphs under the title (what was run, which clock timed it).
    """
    lines = ["# Batch size and time steps, measured", "", setup, ""]
    if measured is not None:
        lines += ["## Training speed", ""]
        for sweep, settings in speed_sweeps.items():
            if settings:
                lines += [
                    f"By {SWEEP_TITLES[sweep].format(_fixed(settings, sweep))}:",
                    "",
                    *speed_table(settings, sweep, measured),
                    "",
                ]
        lines += [
            f"words/s: the median of {len(measured['speeds'][0]['words_per_second'])} rounds "
            "(the settings timed in alternation). of the matmul rate: the median as a share of "
            "the words/s the step would reach if its matmuls (`bench.measure.window_matmuls`: "
            f"{measured['speeds'][0]['flops_per_word'] / 1e6:.2f}M FLOP per word) ran at the "
            f"machine's 4096³ float32 matmul rate, {measured['matmul_gflops']:.0f} GFLOP/s.",
            "",
            f"![training speed]({SPEED_PNG})",
            "",
        ]
    lines += [
        "## Learning at equal words",
        "",
        *learning_table(searches),
        "",
        "lr: the picked constant learning rate; valid at each lr tried: final validation "
        "perplexity of each rate of the grid (bold: the pick). valid, test: batch size 1, "
        "the state carried through the whole split (the tutorial's protocol). updates: "
        "windows trained on (batch_size x num_steps words each).",
        "",
        "Validation perplexity during training, at the picked rate:",
        "",
        *curve_table(searches),
        "",
        "Each column: the points measured after the same share of the training windows; its "
        "heading is their median words (a point comes at the end of the first compiled call "
        "past its mark, so the settings' words differ by up to one call).",
        "",
        f"![validation perplexity against training words]({LEARNING_PNGS['words']})",
        "",
        "## Learning at equal time",
        "",
        *time_table(searches),
        "",
        "valid by: the last validation point within the training time of the pick that "
        "finished its words first; at words: the training words of that point.",
        "",
        f"![validation perplexity against training time]({LEARNING_PNGS['train_seconds']})",
        "",
    ]
    files.write_text(path, "\n".join(lines))
