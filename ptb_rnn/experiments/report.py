"""What the experiments measured, as markdown reports and PNGs of learning curves.

experiments.md (the learning-rate grid and the echo task):

    # Why backpropagate through time? Measured
    Setup: ...
    ## PTB: the picked learning rate of each mode            results_table
    ## PTB: the learning-rate grid (validation perplexity)   grid_table
    ## Echo task: what the state carries and ...            echo_table

full_scale.md (every mode on all of PTB, `plan.full_points`):

    # Why backpropagate through time? All of PTB
    Setup: ...
    ## Time to target                                        time_to_target_table
    ## Final perplexities                                    full_table
    Learning curves against words and against training seconds (plot_full_curves)
"""

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from ptb_rnn import files
from ptb_rnn.experiments import echo
from ptb_rnn.experiments.results import Run, best_runs

PTB_PNG = "experiments_ptb.png"  # beside experiments.md, which links to it
FULL_REPORT = "full_scale.md"
# Beside full_scale.md: validation perplexity against words and against training seconds.
FULL_PNGS = {"words": "full_scale_words.png", "train_seconds": "full_scale_seconds.png"}
# Validation perplexities (state as trained) whose first crossing the report times.
TARGETS = (300, 200, 150)
PERPLEXITY_TICKS = (100, 120, 150, 200, 300, 400, 600, 1000)


def grid_table(runs: list[Run]) -> list[str]:
    """Markdown: validation perplexity of every mode at every learning rate.

    Each mode's pick is in bold; a run that diverged shows "diverged", a learning rate
    a mode was not run at "–". Perplexities of 100,000 and more (the uniform guess over
    PTB's words is 10,000) are written in powers of ten.
    """
    learning_rates = sorted({run.learning_rate for run in runs})
    picked = {(run.mode, run.learning_rate) for run in best_runs(runs)}
    lines = [
        "| mode | " + " | ".join(f"lr {lr:g}" for lr in learning_rates) + " |",
        "|---|" + "---|" * len(learning_rates),
    ]
    for mode in dict.fromkeys(run.mode for run in runs):
        cells = []
        for lr in learning_rates:
            found = [r for r in runs if r.mode == mode and r.learning_rate == lr]
            if not found:
                cell = "–"
            elif found[0].diverged:
                cell = "diverged"
            else:
                perplexity = found[0].selection_perplexity
                cell = f"{perplexity:.1f}" if perplexity < 1e5 else f"{perplexity:.1e}"
            cells.append(f"**{cell}**" if (mode, lr) in picked else cell)
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return lines


def _carry(history) -> str:
    return "yes" if history.truncation["carry_state"] else "no"


def _final_perplexities(history) -> str:
    """Table cells: valid carried, valid as trained, test carried, test as trained."""
    carried, trained = history.eval["carried"], history.eval["trained_state"]
    return (
        f"{carried['valid']:.1f} | {trained['valid']:.1f} "
        f"| {carried['test']:.1f} | {trained['test']:.1f}"
    )


def results_table(runs: list[Run]) -> list[str]:
    """Markdown: each run (none diverged) under both evaluation protocols."""
    lines = [
        "| mode | k | carry | lr | train | valid (carried) | valid (as trained) "
        "| test (carried) | test (as trained) | words/s | wall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        h = run.history
        lines.append(
            f"| {run.mode} | {run.num_steps} | {_carry(h)} | {run.learning_rate:g} "
            f"| {h.train_perplexity[-1]:.1f} | {_final_perplexities(h)} "
            f"| {h.words_per_second:.0f} | {h.wall_seconds / 60:.1f} min |"
        )
    return lines


def echo_table(rows: list[dict]) -> list[str]:
    """Markdown: answer perplexity of each echo run (from `echo.run_echo`), by protocol
    and where the key is."""
    lines = [
        "| delay D | k | trained with carry | carried: key in same window | carried: key in "
        "earlier window | reset: key in same window | reset: key in earlier window "
        "| all-word test ppl |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["answers"] is None:
            cells = ["diverged"] * 5
        else:
            cells = [
                "–" if p is None else f"{p:.2f}"
                for protocol in ("carried", "reset")
                for p in row["answers"][protocol].values()
            ]
            cells.append(f"{row['test_perplexity']:.2f}")
        lines.append(
            f"| {row['delay']} | {row['num_steps']} | {'yes' if row['carry_state'] else 'no'} "
            f"| {' | '.join(cells)} |"
        )
    return lines


def plot_curves(runs: list[Run], path: str, title: str) -> None:
    """Draws validation perplexity against words seen and against wall time to a PNG.

    Args:
      runs: the runs to draw, one line each; none diverged.
      path: the PNG, written atomically.
      title: the figure's title.
    """
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    by_words, by_time = figure.subplots(1, 2, sharey=True)
    for run in runs:
        h = run.history
        label = f"{run.mode} (k={run.num_steps}, lr {run.learning_rate:g})"
        valid = h.valid_perplexity_training_layout
        by_words.plot(h.train_words, valid, marker="o", label=label)
        by_time.plot(np.array(h.elapsed_seconds) / 60, valid, marker="o")
    by_words.set_xlabel("training words seen")
    by_time.set_xlabel("wall time (minutes, training + per-epoch validation)")
    by_words.set_ylabel("validation perplexity (state as trained)")
    by_words.set_yscale("log")
    if runs:
        by_words.legend(fontsize=8)
    for axes in (by_words, by_time):
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def write_report(path: str, ptb_runs: list[Run], echo_rows: list[dict], setup: str) -> None:
    """Writes experiments.md (atomically).

    Args:
      path: the markdown file; the PTB section links to PTB_PNG beside it.
      ptb_runs: every run of the grid, from `grid.run_grid`; none: no PTB section.
      echo_rows: from `echo.run_echo`; none: no echo section.
      setup: the paragraph under the title.
    """
    lines = ["# Why backpropagate through time? Measured", "", setup, ""]
    if ptb_runs:
        lines += [
            "## PTB: the picked learning rate of each mode",
            "",
            *results_table(best_runs(ptb_runs)),
            "",
            "k: window length (truncation). carry: the state flows from window to window. "
            "carried: batch size 1, state carried over the whole split (the tutorial's test "
            "protocol). as trained: state reset every k words for models trained without carry "
            "(the same as carried otherwise). train: last epoch's running perplexity.",
            "",
            f"![learning curves]({PTB_PNG})",
            "",
            "## PTB: the learning-rate grid (validation perplexity, state as trained)",
            "",
            *grid_table(ptb_runs),
            "",
        ]
    if echo_rows:
        lines += [
            "## Echo task: what the state carries and what the truncated gradient can learn",
            "",
            *echo_table(echo_rows),
            "",
            f"Answer perplexity: over the answer positions only; {len(echo.KEYS)} is chance "
            "(the key is one of four), 1 is perfect recall. The test stream is read at batch "
            "size 1 in windows of k words, the state carried between windows or reset at each; "
            "an answer's key lies in the same window or in an earlier one. Setup: a 1-layer "
            f"LSTM with 32 units, {echo.ECHO_WORDS} training words x {echo.ECHO_EPOCHS} epochs, "
            "learning rate 1, batch size 20.",
            "",
        ]
    files.write_text(path, "\n".join(lines))


def time_to_target(history, target: float) -> dict | None:
    """Where a run first reached validation perplexity target (state as trained).

    Returns:
      {"words": ..., "train_seconds": ...} of the first curve point at or below target,
      or None if no point is.
    """
    for point in history.curve:
        if point["trained_state"] <= target:
            return {"words": point["words"], "train_seconds": point["train_seconds"]}
    return None


def _label(run: Run) -> str:
    return f"{run.mode}, seed {run.seed}"


def time_to_target_table(runs: list[Run]) -> list[str]:
    """Markdown: words and training minutes each run took to reach each of TARGETS."""
    header = " | ".join(f"words to {t}" for t in TARGETS)
    minutes = " | ".join(f"train min to {t}" for t in TARGETS)
    lines = [
        f"| mode | seed | lr | {header} | {minutes} |",
        "|---|---|---|" + "---|" * (2 * len(TARGETS)),
    ]
    for run in runs:
        reached = [time_to_target(run.history, target) for target in TARGETS]
        words = ["not reached" if r is None else f"{r['words'] / 1e6:.2f}M" for r in reached]
        seconds = [
            "not reached" if r is None else f"{r['train_seconds'] / 60:.1f}" for r in reached
        ]
        lines.append(
            f"| {run.mode} | {run.seed} | {run.learning_rate:g} | {' | '.join(words)} "
            f"| {' | '.join(seconds)} |"
        )
    return lines


def full_table(runs: list[Run]) -> list[str]:
    """Markdown: each full-scale run's final perplexities, speed and cost."""
    lines = [
        "| mode | seed | k | carry | lr | valid (carried) | valid (as trained) "
        "| test (carried) | test (as trained) | words/s | train hours | CPU family |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        h = run.history
        lines.append(
            f"| {run.mode} | {run.seed} | {run.num_steps} | {_carry(h)} | {run.learning_rate:g} "
            f"| {_final_perplexities(h)} "
            f"| {h.words_per_second:.0f} | {h.train_seconds[-1] / 3600:.2f} "
            f"| {h.machine.get('cpu_family')} |"
        )
    return lines


def plot_full_curves(runs: list[Run], path: str, x: str, title: str) -> None:
    """Draws validation perplexity during training, one colour per run, to a PNG.

    The solid line is the state as trained, the dashed one the tutorial's protocol
    (state carried), drawn only for runs trained without carry, where the two differ.

    Args:
      runs: the runs to draw; none diverged, each with a curve.
      path: the PNG, written atomically.
      x: "words" (words trained so far) or "train_seconds" (training time so far,
        evaluation excluded).
      title: the figure's title.
    """
    figure = Figure(figsize=(9, 5.5), layout="constrained")
    axes = figure.subplots()
    for run in runs:
        curve = run.history.curve
        xs = np.array([point[x] for point in curve], np.float64)
        xs = xs / 1e6 if x == "words" else xs / 60
        (line,) = axes.plot(xs, [p["trained_state"] for p in curve], label=_label(run))
        if not run.history.truncation["carry_state"]:
            carried = [p["carried"] for p in curve]
            axes.plot(xs, carried, linestyle="--", color=line.get_color(), alpha=0.6)
    axes.set_xlabel(
        "words trained (millions)" if x == "words" else "training minutes (evaluation excluded)"
    )
    axes.set_ylabel("validation perplexity (state as trained; dashed: carried)")
    axes.set_yscale("log")
    axes.set_yticks(PERPLEXITY_TICKS, [str(tick) for tick in PERPLEXITY_TICKS])
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    for target in TARGETS:
        axes.axhline(target, color="grey", linewidth=0.5)
    axes.grid(True, which="both", alpha=0.3)
    if runs:
        axes.legend(fontsize=8)
    axes.set_title(title)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def write_full_report(path: str, runs: list[Run], setup: str) -> None:
    """Writes full_scale.md (atomically), linking to the FULL_PNGS beside it.

    Args:
      path: the markdown file.
      runs: the full-scale runs that finished, from `grid.run_grid`.
      setup: the paragraphs under the title.
    """
    lines = [
        "# Why backpropagate through time? All of PTB",
        "",
        setup,
        "",
        "## Time to target",
        "",
        *time_to_target_table(runs),
        "",
        "The first validation point (4 an epoch, batch size 1, state as trained) at or below "
        "the target; words are the words trained on by then, minutes the training time by "
        "then (evaluation excluded; the setup says which clock).",
        "",
        "## Final perplexities",
        "",
        *full_table(runs),
        "",
        "k: window length. carried: batch size 1, the state carried through the whole split "
        "(the tutorial's test protocol). as trained: the state reset every k words for models "
        "trained without carry (the same as carried otherwise).",
        "",
        f"![validation perplexity against words]({FULL_PNGS['words']})",
        "",
        f"![validation perplexity against training time]({FULL_PNGS['train_seconds']})",
        "",
    ]
    files.write_text(path, "\n".join(lines))
