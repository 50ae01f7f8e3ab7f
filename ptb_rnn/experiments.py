"""Why backpropagate through time? Training modes compared with numbers.

    python -m ptb_rnn.experiments --ptb_dir=DIR --epochs=2 --train_fraction=0.1
    make experiments

Two experiments, both through the one training loop (`loop.train_and_evaluate`):

1. PTB: each mode of `truncation.MODES` (the tutorial's TBPTT, the stateless one-step
   baseline, one-step updates with the state carried, windows without carry, k = 5 and
   35, a truncation curriculum) trained on the same words for the same epochs. The loss
   is summed over a window's k steps, so an update's size grows with k while k = 1 makes
   k times more updates: per word seen, the same learning rate moves the weights by the
   same amount. Each mode still gets its learning rate from a small grid, picked on the
   validation set.
2. Echo: a synthetic stream in which the word after a query marker `Q` repeats the key
   word seen `delay` steps earlier (the words between are random fillers). Trained with
   windows of k words, the model can only learn the echo if the key and the answer fit in
   one window (delay < k), since the gradient stops at the window edge; once learnt, the
   carried state answers across window edges too. Delays below and above k, with and
   without carry, show both effects.

Results go to `OUTPUT_DIR/experiments.md`, PNG learning curves, and one work directory
per run under `OUTPUT_DIR/runs/` (a finished run, one with results.json, is not redone).
"""

import dataclasses
import json
import os

import numpy as np
from absl import flags, logging

from ptb_rnn import cli, loop, reader, truncation
from ptb_rnn.config import Config, ConfigError

PTB_MODES = (
    "tbptt",
    "stateless_one_step",
    "one_step_carry",
    "windows_reset",
    "tbptt_k5",
    "tbptt_k35",
    "curriculum",
)
KEYS = ("k0", "k1", "k2", "k3")
FILLERS = ("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7")
QUERY = "Q"
# (delay, num_steps, carry_state) of the echo runs: the delay below and above num_steps.
ECHO_RUNS = ((5, 10, True), (5, 10, False), (5, 3, True), (5, 3, False))
ECHO_WORDS = 100_000
ECHO_EPOCHS = 3

flags.DEFINE_list("modes", list(PTB_MODES), "Training modes to compare on PTB.")
flags.DEFINE_list("learning_rates", ["0.5", "1", "2"], "Learning-rate grid, the same per mode.")
flags.DEFINE_integer("epochs", 2, "Epochs per run (the learning rate is not decayed).")
flags.DEFINE_float("train_fraction", 0.1, "Train on this leading fraction of the training split.")
flags.DEFINE_string("output_dir", "results", "Where experiments.md, the PNGs and runs/ go.")
flags.DEFINE_boolean("echo", True, "Also run the synthetic echo task.")
FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class Run:
    """One finished training run of the grid."""

    mode: str
    learning_rate: float
    results: dict

    @property
    def num_steps(self) -> str:
        schedule = self.results["truncation"]["schedule"]
        return (
            "→".join(map(str, schedule)) if schedule else str(self.results["config"]["num_steps"])
        )

    @property
    def selection_perplexity(self) -> float:
        """Validation perplexity under the state handling the model was trained with."""
        return self.results["eval"]["trained_state"]["valid"]


def run_once(config: Config, corpus: reader.Corpus, workdir: str, trunc) -> dict:
    """Trains one run, or reads its results.json if it finished before."""
    path = os.path.join(workdir, "results.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return loop.train_and_evaluate(config, corpus, workdir, truncation=trunc)


def run_grid(
    config: Config,
    corpus: reader.Corpus,
    modes: list[str],
    learning_rates: list[float],
    runs_dir: str,
) -> list[Run]:
    """Trains every mode with every learning rate (skipping finished runs)."""
    runs = []
    for mode in modes:
        overrides, trunc = truncation.get_mode(mode)
        for learning_rate in learning_rates:
            workdir = os.path.join(runs_dir, mode, f"lr_{learning_rate:g}")
            logging.info("Run: %s, learning rate %g", mode, learning_rate)
            run_config = dataclasses.replace(config, learning_rate=learning_rate, **overrides)
            results = run_once(run_config, corpus, workdir, trunc)
            runs.append(Run(mode, learning_rate, results))
    return runs


def best_runs(runs: list[Run]) -> list[Run]:
    """Per mode, the run with the lowest validation perplexity, in the order given."""
    best = {}
    for run in runs:
        if run.mode not in best or run.selection_perplexity < best[run.mode].selection_perplexity:
            best[run.mode] = run
    return list(best.values())


def grid_table(runs: list[Run]) -> list[str]:
    """Markdown: validation perplexity of every mode at every learning rate."""
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
            cell = f"{found[0].selection_perplexity:.1f}" if found else "–"
            cells.append(f"**{cell}**" if (mode, lr) in picked else cell)
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return lines


def results_table(runs: list[Run]) -> list[str]:
    """Markdown: the picked run of each mode under both evaluation protocols."""
    lines = [
        "| mode | k | carry | lr | train | valid (carried) | valid (as trained) "
        "| test (carried) | test (as trained) | words/s | wall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        r = run.results
        carried, trained = r["eval"]["carried"], r["eval"]["trained_state"]
        lines.append(
            f"| {run.mode} | {run.num_steps} | {'yes' if r['truncation']['carry_state'] else 'no'} "
            f"| {run.learning_rate:g} | {r['train_perplexity'][-1]:.1f} "
            f"| {carried['valid']:.1f} | {trained['valid']:.1f} "
            f"| {carried['test']:.1f} | {trained['test']:.1f} "
            f"| {r['words_per_second']:.0f} | {r['wall_seconds'] / 60:.1f} min |"
        )
    return lines


def plot_curves(runs: list[Run], path: str, title: str) -> None:
    """Validation perplexity against words seen and against wall time, one line per run."""
    from matplotlib.figure import Figure  # only the runner draws

    figure = Figure(figsize=(12, 4.5), layout="constrained")
    by_words, by_time = figure.subplots(1, 2, sharey=True)
    for run in runs:
        r = run.results
        label = f"{run.mode} (k={run.num_steps}, lr {run.learning_rate:g})"
        by_words.plot(r["train_words"], r["valid_perplexity"], marker="o", label=label)
        by_time.plot(np.array(r["elapsed_seconds"]) / 60, r["valid_perplexity"], marker="o")
    by_words.set_xlabel("training words seen")
    by_time.set_xlabel("wall time (minutes, training + per-epoch validation)")
    by_words.set_ylabel("validation perplexity (state as trained)")
    by_words.set_yscale("log")
    by_words.legend(fontsize=8)
    for axes in (by_words, by_time):
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    figure.savefig(path, dpi=100)


def echo_stream(delay: int, num_words: int, seed: int) -> tuple[list[str], np.ndarray]:
    """A stream of segments `key, fillers, Q, key`, the answer `delay` words after its key.

    Between segments come 0 to 3 extra fillers, so that segments fall at every position
    relative to the training windows.

    Returns:
      (words, answers): the words, and the positions of the answers (the key after Q).
    """
    if delay < 2:
        raise ConfigError(f"the echo delay must be at least 2, got {delay}.")
    rng = np.random.default_rng(seed)
    words, answers = [], []
    while len(words) < num_words:
        words.extend(rng.choice(FILLERS, rng.integers(0, 4)))
        key = rng.choice(KEYS)
        words.append(key)
        words.extend(rng.choice(FILLERS, delay - 2))
        words.append(QUERY)
        answers.append(len(words))
        words.append(key)
    return words, np.array(answers)


def echo_corpus(delay: int, num_words: int) -> tuple[reader.Corpus, np.ndarray]:
    """Train/valid/test echo streams (test is num_words // 10) and the test answers."""
    sizes = {"train": num_words, "valid": num_words // 10, "test": num_words // 10}
    streams = {
        split: echo_stream(delay, size, seed) for seed, (split, size) in enumerate(sizes.items())
    }
    corpus = reader.corpus_from_words({split: words for split, (words, _) in streams.items()})
    return corpus, streams["test"][1]


def answer_perplexities(
    model, ids: np.ndarray, answers: np.ndarray, delay: int, num_steps: int
) -> dict:
    """Perplexity over the answer positions (4 = chance over the keys, 1 = perfect recall).

    The test stream is read at batch_size 1 in windows of num_steps words, with the state
    carried from window to window or reset to zeros at every window. Answers are split
    by where their key is: in the same window, or in an earlier one (then only the
    carried state can bring it).

    Returns:
      {"carried": {"same_window": p, "earlier_window": p}, "reset": {...}}; p is None
      where no answer has its key there (delay > num_steps: never in the same window).
    """
    import tensorflow as tf  # only the echo runs need it

    @tf.function(jit_compile=True)
    def log_probs(x, state):
        logits, state = model(x, state)
        return tf.nn.log_softmax(logits), state

    inputs = ids[:-1]
    rows = len(inputs) // num_steps
    windows = inputs[: rows * num_steps].reshape(rows, num_steps)
    # Carried: one stream, read in chunks of whole windows with the state carried.
    chunk = max(loop.TEST_WINDOW // num_steps, 1) * num_steps
    state = model.zero_state(1)
    pieces = []
    for start in range(0, rows * num_steps, chunk):
        piece, state = log_probs(windows.reshape(1, -1)[:, start : start + chunk], state)
        pieces.append(piece[0].numpy())
    carried = np.concatenate(pieces)  # (rows * num_steps, vocab): row t predicts word t + 1
    # Reset: every window from zeros, so the windows are independent rows of one batch.
    reset, _ = log_probs(windows, model.zero_state(rows))
    reset = reset.numpy().reshape(rows * num_steps, -1)

    answers = answers[answers <= rows * num_steps]
    same_window = (answers - delay) // num_steps == (answers - 1) // num_steps
    result = {}
    for name, predictions in (("carried", carried), ("reset", reset)):
        log_p = predictions[answers - 1, ids[answers]]
        result[name] = {
            where: float(np.exp(-np.mean(log_p[mask]))) if mask.any() else None
            for where, mask in (("same_window", same_window), ("earlier_window", ~same_window))
        }
    return result


def run_echo(runs_dir: str, num_words: int = ECHO_WORDS, epochs: int = ECHO_EPOCHS) -> list[dict]:
    """Trains the echo runs (a 1-layer LSTM with 32 units) and measures the answers."""
    from ptb_rnn.model import PTBModel

    rows = []
    for delay, num_steps, carry_state in ECHO_RUNS:
        corpus, answers = echo_corpus(delay, num_words)
        config = Config(
            num_layers=1,
            hidden_size=32,
            num_steps=num_steps,
            max_epoch=epochs,
            max_max_epoch=epochs,
            vocab_size=corpus.vocabulary_size,
        )
        name = f"delay{delay}_k{num_steps}_{'carry' if carry_state else 'reset'}"
        workdir = os.path.join(runs_dir, "echo", name)
        trunc = truncation.Truncation(carry_state=carry_state)
        results = run_once(config, corpus, workdir, trunc)
        model = PTBModel(config).build_for(1)
        model.load_weights(os.path.join(workdir, loop.WEIGHTS_FILE))
        rows.append(
            {
                "delay": delay,
                "num_steps": num_steps,
                "carry_state": carry_state,
                "test_perplexity": results["test_perplexity"],
                "answers": answer_perplexities(model, corpus.test, answers, delay, num_steps),
            }
        )
    return rows


def echo_table(rows: list[dict]) -> list[str]:
    """Markdown: answer perplexity of each echo run, by protocol and where the key is."""
    lines = [
        "| delay D | k | trained with carry | carried: key in same window | carried: key in "
        "earlier window | reset: key in same window | reset: key in earlier window "
        "| all-word test ppl |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            "–" if p is None else f"{p:.2f}"
            for protocol in ("carried", "reset")
            for p in row["answers"][protocol].values()
        ]
        lines.append(
            f"| {row['delay']} | {row['num_steps']} | {'yes' if row['carry_state'] else 'no'} "
            f"| {' | '.join(cells)} | {row['test_perplexity']:.2f} |"
        )
    return lines


def write_report(path: str, ptb_runs: list[Run], echo_rows: list[dict], setup: str) -> None:
    """Writes experiments.md (atomically)."""
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
            "![learning curves](experiments_ptb.png)",
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
            f"Answer perplexity: over the answer positions only; {len(KEYS)} is chance (the "
            "key is one of four), 1 is perfect recall. The test stream is read at batch size 1 "
            "in windows of k words, the state carried between windows or reset at each; an "
            "answer's key lies in the same window or in an earlier one. Setup: a 1-layer LSTM "
            f"with 32 units, {ECHO_WORDS} training words x {ECHO_EPOCHS} epochs, learning rate "
            "1, batch size 20.",
            "",
        ]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def main(argv):
    del argv
    try:
        learning_rates = [float(lr) for lr in FLAGS.learning_rates]
    except ValueError:
        raise ConfigError(
            f"cannot read --learning_rates={','.join(FLAGS.learning_rates)}; give numbers "
            "separated by commas, e.g. 0.5,1,2."
        ) from None
    if not 0 < FLAGS.train_fraction <= 1:
        raise ConfigError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
    for mode in FLAGS.modes:
        truncation.get_mode(mode)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    runs_dir = os.path.join(FLAGS.output_dir, "runs")
    # No decay within the short budget: every mode trains at its grid learning rate.
    config = cli.config_from_flags(max_epoch=FLAGS.epochs, max_max_epoch=FLAGS.epochs)
    ptb_runs = []
    if FLAGS.modes:
        corpus = cli.corpus_from_flags()
        num_train = int(len(corpus.train) * FLAGS.train_fraction)
        corpus = dataclasses.replace(corpus, train=corpus.train[:num_train])
        ptb_runs = run_grid(config, corpus, FLAGS.modes, learning_rates, runs_dir)
        plot_curves(
            best_runs(ptb_runs),
            os.path.join(FLAGS.output_dir, "experiments_ptb.png"),
            f"PTB, {FLAGS.config} model, {num_train} training words x {FLAGS.epochs} epochs",
        )
        setup = (
            f"Setup: the {FLAGS.config} config, the first {num_train} words of the training "
            f"split ({FLAGS.train_fraction:g}), {FLAGS.epochs} epochs at a constant learning "
            f"rate picked per mode from {{{', '.join(f'{lr:g}' for lr in learning_rates)}}}."
        )
    else:
        setup = "Setup: echo task only."
    echo_rows = run_echo(runs_dir) if FLAGS.echo else []
    write_report(os.path.join(FLAGS.output_dir, "experiments.md"), ptb_runs, echo_rows, setup)
    print(f"Wrote {os.path.join(FLAGS.output_dir, 'experiments.md')}")


if __name__ == "__main__":
    cli.run(main)
