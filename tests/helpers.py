"""What several tests share: where the PTB corpus is, tiny corpora and a tiny model."""

import os
import shutil
import subprocess
import sys

import keras
import numpy as np

from ptb_rnn import reader
from ptb_rnn.config import Config, get_config
from ptb_rnn.model import PTBModel

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
