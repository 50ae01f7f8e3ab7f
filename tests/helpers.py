"""What several tests share: where the PTB corpus is, and tiny corpora."""

import os
import shutil
import subprocess
import sys

import numpy as np

from ptb_rnn import reader

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
