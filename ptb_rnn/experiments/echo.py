"""The echo task: what the carried state remembers, and what a truncated gradient can learn.

The stream is made of segments `key, fillers, Q, key`: the word after the query marker
`Q` repeats the key seen `delay` words earlier. A model trained with windows of k words
can only learn the echo if the key and the answer fit in one window (delay < k), since
the gradient stops at the window edge; once learnt, the carried state answers across
window edges too. Each run's work directory, `runs_dir/echo/delay<D>_k<k>_<carry|reset>`,
holds the trainer's files and answers.json, the answer perplexities measured from its
weights (kept, since the weights are not).
"""

import dataclasses
import os

import numpy as np

from ptb_rnn import evaluate, files, reader
from ptb_rnn.config import Config, ConfigError
from ptb_rnn.experiments import grid, results
from ptb_rnn.model.network import PTBModel, build_model
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import steps
from ptb_rnn.truncation import Truncation

KEYS = ("k0", "k1", "k2", "k3")
FILLERS = ("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7")
QUERY = "Q"
# (delay, num_steps, carry_state) of the echo runs: the delay below and above num_steps.
ECHO_RUNS = ((5, 10, True), (5, 10, False), (5, 3, True), (5, 3, False))
ECHO_WORDS = 100_000
ECHO_EPOCHS = 3
ANSWERS_FILE = "answers.json"


def echo_stream(delay: int, num_words: int, seed: int) -> tuple[list[str], np.ndarray]:
    """A stream of segments `key, fillers, Q, key`, the answer `delay` words after its key.

    Between segments come 0 to 3 extra fillers, so that segments fall at every position
    relative to the training windows.

    Returns:
      (words, answers): at least num_words words, and the positions in them of the
      answers (the key after Q), (num_answers,) int.
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
    """Train/valid/test echo streams (valid and test are num_words // 10) and the test answers."""
    sizes = {"train": num_words, "valid": num_words // 10, "test": num_words // 10}
    streams = {
        split: echo_stream(delay, size, seed) for seed, (split, size) in enumerate(sizes.items())
    }
    corpus = reader.corpus_from_words({split: words for split, (words, _) in streams.items()})
    return corpus, streams["test"][1]


def answer_perplexities(
    model: PTBModel, ids: np.ndarray, answers: np.ndarray, delay: int, num_steps: int
) -> dict:
    """Perplexity over the answer positions (4 = chance over the keys, 1 = perfect recall).

    The stream is scored at batch size 1 under the two protocols of `evaluate`: the state
    carried over the whole stream, and the state reset to zeros every num_steps words.
    Answers are split by where their key is: in the same window of num_steps words as
    the word the answer is predicted from, or in an earlier one (then only the carried
    state can bring it).

    Args:
      model: a built model.
      ids: the stream, (num_words,) int.
      answers: the positions of the answers in ids, (num_answers,) int, each >= delay.
      delay: words from a key to its answer.
      num_steps: the window length k.

    Returns:
      {"carried": {"same_window": p, "earlier_window": p}, "reset": {...}}; p is None
      where no answer has its key there (delay > num_steps: never in the same window).
    """
    log_prob_steps = steps.make_log_prob_steps(model)
    log_probs = {  # each (len(ids) - 1,): entry t is log p(ids[t + 1] | the words before)
        "carried": evaluate.target_log_probs(log_prob_steps, model, ids),
        "reset": evaluate.target_log_probs(log_prob_steps, model, ids, reset_every=num_steps),
    }
    # Answer a is predicted from the word at a - 1; its key is at a - delay.
    same_window = (answers - delay) // num_steps == (answers - 1) // num_steps
    return {
        protocol: {
            where: float(np.exp(-np.mean(values[answers[mask] - 1]))) if mask.any() else None
            for where, mask in (("same_window", same_window), ("earlier_window", ~same_window))
        }
        for protocol, values in log_probs.items()
    }


@dataclasses.dataclass(frozen=True)
class EchoRun:
    """One echo run, before it is trained.

    Attributes:
      delay, num_steps, carry_state: as in ECHO_RUNS.
      spec: the run.
      corpus: its echo streams.
      answers: the positions of the answers in corpus.test, (num_answers,) int.
      workdir: where the run writes.
    """

    delay: int
    num_steps: int
    carry_state: bool
    spec: RunSpec
    corpus: reader.Corpus
    answers: np.ndarray
    workdir: str


def echo_runs(
    base: RunSpec, runs_dir: str, num_words: int = ECHO_WORDS, epochs: int = ECHO_EPOCHS
) -> list[EchoRun]:
    """The echo runs (a 1-layer LSTM with 32 units), each checked (`RunSpec.check`).

    Args:
      base: the computation settings (seed, windows per call, LSTM implementation...);
        its config and truncation are replaced by each echo run's.
      runs_dir: the echo runs go to runs_dir/echo/.
      num_words: training words; valid and test have a tenth as many.
      epochs: epochs per run, at learning rate 1.
    """
    runs = []
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
        spec = dataclasses.replace(
            base, config=config, truncation=Truncation(carry_state=carry_state)
        )
        spec.check(corpus)
        name = f"delay{delay}_k{num_steps}_{'carry' if carry_state else 'reset'}"
        workdir = os.path.join(runs_dir, "echo", name)
        runs.append(EchoRun(delay, num_steps, carry_state, spec, corpus, answers, workdir))
    return runs


def run_echo(runs: list[EchoRun], train: bool = True) -> list[dict]:
    """Trains the echo runs and measures the answers.

    A run that finished before is read, not trained again; its answers are read from
    answers.json, or measured from its weights if that file is missing. Every run's work
    directory is checked before any trains (`results.check_same_run`).

    Args:
      runs: from `echo_runs`.
      train: False: only read the runs that ended, training none.

    Returns:
      Per run (with train False: per run that ended): {"delay", "num_steps",
      "carry_state", "test_perplexity", "answers"}: answers as from
      `answer_perplexities`; test_perplexity (all words, state carried) and answers are
      None if the run diverged.

    Raises:
      files.WorkdirError: a run's work directory holds another run.
      ConfigError: a finished run has neither answers.json nor its weights.
    """
    for run in runs:
        results.check_same_run(run.spec, run.corpus, run.workdir, train)
    rows = []
    for run in runs:
        if train:
            history = grid.run_once(run.spec, run.corpus, run.workdir)
        else:
            history = results.read_history(run.workdir)
            if history is None and not os.path.exists(
                os.path.join(run.workdir, results.DIVERGED_FILE)
            ):
                continue
        row = {"delay": run.delay, "num_steps": run.num_steps, "carry_state": run.carry_state}
        if history is None:
            rows.append({**row, "test_perplexity": None, "answers": None})
            continue
        measured = files.read_json(os.path.join(run.workdir, ANSWERS_FILE))
        if measured is None:
            model = _load_model(run.spec, run.workdir)
            measured = answer_perplexities(
                model, run.corpus.test, run.answers, run.delay, run.num_steps
            )
            files.write_json(os.path.join(run.workdir, ANSWERS_FILE), measured)
        rows.append({**row, "test_perplexity": history.test_perplexity, "answers": measured})
    return rows


def _load_model(spec: RunSpec, workdir: str) -> PTBModel:
    """The run's final weights in a model built for batch size 1."""
    path = os.path.join(workdir, files.WEIGHTS_FILE)
    if not os.path.isfile(path):
        raise ConfigError(
            f"{workdir} holds a finished echo run but neither {ANSWERS_FILE} nor "
            f"{files.WEIGHTS_FILE} to measure its answers with; delete {workdir} to train "
            "it again, or pass --noecho."
        )
    model = build_model(spec, batch_size=1)
    model.load_weights(path)
    return model
