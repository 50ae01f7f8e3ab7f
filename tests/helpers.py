"""What several tests share: where the PTB corpus is, tiny corpora, a tiny model, a tiny run."""

import dataclasses
import os
import shutil
import subprocess
import sys

import keras
import numpy as np

from ptb_rnn import reader
from ptb_rnn.config import Config, get_config
from ptb_rnn.model.network import PTBModel
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import trainer
from ptb_rnn.training.history import History

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The original PTB files; CI and offline machines keep them beside the project.
PTB_DIR = os.environ.get("PTB_DIR", os.path.join(ROOT, "..", "shared", "data", "ptb"))
HAVE_PTB = all(
    os.path.isfile(os.path.join(PTB_DIR, reader.split_filename(s))) for s in reader.SPLITS
)


def write_corpus(directory: str, train: str, valid: str, test: str) -> str:
    """Writes a corpus in the tutorial's layout and returns its directory."""
    os.makedirs(directory, exist_ok=True)
    for split, text in zip(reader.SPLITS, (train, valid, test)):
        with open(os.path.join(directory, reader.split_filename(split)), "w") as f:
            f.write(text)
    return directory


def random_sentences(num_lines: int, vocab_size: int, seed: int = 0) -> str:
    """Lines of random words w0..w{vocab_size-1}, 3 to 9 words each."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(num_lines):
        words = rng.integers(0, vocab_size, rng.integers(3, 10))
        lines.append(" " + " ".join(f"w{i}" for i in words) + " \n")
    return "".join(lines)


def random_corpus(directory: str, train_lines: int, other_lines: int, vocab_size: int) -> str:
    """A corpus of random sentences of words w0..w{vocab_size-1}: train_lines lines of
    train, other_lines of valid and of test. Returns its directory."""
    return write_corpus(
        directory,
        random_sentences(train_lines, vocab_size),
        random_sentences(other_lines, vocab_size, 1),
        random_sentences(other_lines, vocab_size, 2),
    )


def truncated_ptb_copy(directory: str, size: int = 1000) -> str:
    """Copies the three PTB files into directory with ptb.test.txt cut to size bytes."""
    for split in reader.SPLITS:
        shutil.copy(os.path.join(PTB_DIR, reader.split_filename(split)), directory)
    with open(os.path.join(directory, "ptb.test.txt"), "r+b") as f:
        f.truncate(size)
    return directory


def run_module(module: str, *flags: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Runs `python -m module flags...` from the project root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", module, *flags],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


# The tutorial's reader_test ids, spelled with letters: id 0 is "a", id 6 is "g".
TUTORIAL_IDS = [4, 3, 2, 1, 0, 5, 6, 1, 1, 1, 1, 0, 3, 4, 1]
LETTERS = list("abcdefg")


def shapes_config(**overrides) -> Config:
    """The small config shrunk to fold TUTORIAL_IDS as the tutorial's test does."""
    fields = dict(hidden_size=3, vocab_size=7, num_layers=2, batch_size=3, num_steps=2)
    return get_config("small", **{**fields, **overrides})


def tiny_config(**overrides) -> Config:
    """The small config (2 layers, 20 steps, no dropout) shrunk to 6 units and 20 words."""
    return get_config("small", **{"hidden_size": 6, "vocab_size": 20, **overrides})


def tiny_model(batch_size: int = 2, seed: int | None = None, **overrides):
    """A built `PTBModel` of `tiny_config(**overrides)`; seed fixes its initial weights."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return PTBModel(tiny_config(**overrides)).build_for(batch_size)


# Sentences of a tiny grammar (subject, verb, object): a tiny model trained on them
# learns a next-word distribution far from uniform. 16 words with <unk> and <eos>.
SUBJECTS = ("the cat", "the dog", "a man", "a bird")
VERBS = ("sat on", "ate", "saw", "liked")
OBJECTS = ("the mat", "the bone", "a tree", "the <unk>")


def grammar_sentences(num_lines: int, seed: int = 0) -> str:
    """num_lines random sentences of the grammar, one per line, as PTB writes them."""
    rng = np.random.default_rng(seed)
    parts = (SUBJECTS, VERBS, OBJECTS)
    return "".join(
        " " + " ".join(p[rng.integers(len(p))] for p in parts) + " \n" for _ in range(num_lines)
    )


def train_tiny(directory: str, test_text: str = ""):
    """Trains `tiny_config` (vocab_size 16, init_scale 0.5, 4 epochs: test perplexity
    about 2) on grammar sentences, as `make train` does: directory/corpus holds the corpus
    (its test split: grammar sentences, then test_text), directory/run the work
    directory, model.keras included.

    Returns:
      (workdir, corpus directory, History).
    """
    corpus_dir = write_corpus(
        os.path.join(directory, "corpus"),
        grammar_sentences(300, seed=0),
        grammar_sentences(40, seed=1),
        grammar_sentences(40, seed=2) + test_text,
    )
    corpus = reader.load_corpus(corpus_dir)
    config = tiny_config(
        vocab_size=16, init_scale=0.5, num_steps=5, batch_size=4, max_epoch=4, max_max_epoch=4
    )
    workdir = os.path.join(directory, "run")
    history = trainer.train_and_evaluate(RunSpec(config, seed=0), corpus, workdir)
    return workdir, corpus_dir, history


def finished_history(valid, schedule=()):
    """The History of a finished run whose validation perplexity (state as trained) is valid."""
    history = History(
        dataclasses.asdict(get_config("small")),
        {"carry_state": True, "schedule": list(schedule), "ramp": False},  # as in JSON
    )
    history.add_epoch(1.0, 500.0, valid, 3000.0, 1000, 60.0, 55.0)
    history.finish(
        {
            "carried": {"valid": valid, "test": valid - 10},
            "trained_state": {"valid": valid, "test": valid - 10},
        },
        61.0,
    )
    return history
