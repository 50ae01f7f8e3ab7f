"""Reads the PTB corpus and folds it into the tutorial's batch layout.

This module follows `tutorials/rnn/ptb/reader.py` of the TensorFlow tutorial and
depends on nothing else in the package.

How `ptb_producer` folds a corpus (batch_size=3, num_steps=2): the id stream
`a b c d e f g h i j k l m n o` (15 ids) is cut into batch_size rows of
batch_len = 15 // 3 = 5 contiguous ids; any tail that does not fill a row is dropped.

            window 0   window 1   (unused: y needs one id past the last x)
    row 0:  a b        c d        e
    row 1:  f g        h i        j
    row 2:  k l        m n        o

    x0 = [[a b]    y0 = [[b c]    x1 = [[c d]    y1 = [[d e]
          [f g]          [g h]          [h i]          [i j]
          [k l]]         [l m]]         [m n]]         [n o]]

epoch_size = (batch_len - 1) // num_steps = 2 windows. Each row is an independent
stream read left to right: row r of window i+1 continues row r of window i, which is
why the LSTM state of row r can be carried from one window to the next. Rows never
exchange state.
"""

import collections
import dataclasses
import os
import sys
from collections.abc import Iterator

import numpy as np

EOS = "<eos>"
UNK = "<unk>"
SPLITS = ("train", "valid", "test")
# Where the tutorial's files come from (its data/ folder holds ptb.*.txt).
PTB_ARCHIVE = "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz"
# The names of standard input for a text a tool reads (read_text_file).
STDIN = ("-", "/dev/stdin")


def split_filename(split: str) -> str:
    """The tutorial's file name for a split, e.g. `ptb.train.txt`."""
    return f"ptb.{split}.txt"


class DataError(ValueError):
    """A corpus or batch layout that cannot be used, with what to do about it."""


def text_to_words(text: str) -> list[str]:
    """Splits text on whitespace; every newline becomes the token `<eos>`."""
    return text.replace("\n", f" {EOS} ").split()


def read_words(filename: str) -> list[str]:
    """Reads a text file (UTF-8) into its list of words and `<eos>` tokens."""
    if not os.path.isfile(filename):
        raise DataError(f"{filename} does not exist.")
    with open(filename, "rb") as f:
        return _decode_words(f.read(), filename)


def text_file_path(path: str) -> str:
    """The file read_text_file reads for path: /dev/stdin for `-` (standard input)."""
    return "/dev/stdin" if path in STDIN else path


def read_text_file(path: str, flag: str = "--text_file") -> list[str]:
    """The words of a text named on the command line: a file (a pipe too), or standard
    input when path is `-` or /dev/stdin.

    Raises:
      DataError: path is a directory or does not exist, or the text is not UTF-8.
    """
    if path in STDIN:
        return _decode_words(sys.stdin.buffer.read(), "standard input")
    if os.path.isdir(path):
        raise DataError(f"{flag}={path} is a directory; give the path of a text file.")
    if not os.path.exists(path):
        raise DataError(f"{flag}={path} does not exist; give the path of a text file.")
    with open(path, "rb") as f:
        return _decode_words(f.read(), path)


def _decode_words(raw: bytes, source: str) -> list[str]:
    """The words of UTF-8 bytes read from source (a file name, for the message)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{source} is not UTF-8 text (bad byte at offset {e.start}); convert it to UTF-8."
        ) from None
    return text_to_words(text)


def build_vocab(words: list[str]) -> dict[str, int]:
    """Maps each distinct word to an id, most frequent first, ties by word.

    Args:
      words: the training split's words.

    Returns:
      A dict word -> id with ids 0..len-1 ordered by (-count, word).
    """
    counts = collections.Counter(words)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: i for i, (word, _) in enumerate(ordered)}


def words_to_ids(words: list[str], word_to_id: dict[str, int]) -> tuple[np.ndarray, int]:
    """Maps words to ids; words outside the vocabulary become `<unk>`.

    The tutorial silently drops such words instead. On PTB there are none (its
    valid and test words all occur in train), so both give the same ids there.

    Returns:
      (ids, unknown_count): int32 ids of shape [len(words)], and how many words
      were mapped to `<unk>`.

    Raises:
      DataError: a word is unknown and the vocabulary has no `<unk>`.
    """
    unk_id = word_to_id.get(UNK)
    ids = np.empty(len(words), dtype=np.int32)
    unknown_count = 0
    for i, word in enumerate(words):
        word_id = word_to_id.get(word, unk_id)
        if word_id is None:
            raise DataError(
                f"the word {word!r} is not in the training vocabulary and the training "
                f"split has no {UNK} token; add {UNK} to the training text."
            )
        unknown_count += word not in word_to_id
        ids[i] = word_id
    return ids, unknown_count


@dataclasses.dataclass(frozen=True)
class Corpus:
    """The three splits as id arrays and the vocabulary they share."""

    train: np.ndarray  # (num_train_words,) int32
    valid: np.ndarray  # (num_valid_words,) int32
    test: np.ndarray  # (num_test_words,) int32
    word_to_id: dict[str, int]
    unknown_counts: dict[str, int]  # split -> words mapped to <unk>

    @property
    def vocabulary_size(self) -> int:
        return len(self.word_to_id)

    @property
    def id_to_word(self) -> list[str]:
        return sorted(self.word_to_id, key=self.word_to_id.get)


def corpus_from_words(split_words: dict[str, list[str]]) -> Corpus:
    """Builds the vocabulary from train and maps all three splits to ids."""
    for split in SPLITS:
        if not split_words[split]:
            raise DataError(f"the {split} split is empty; give it some text.")
    word_to_id = build_vocab(split_words["train"])
    ids, unknown_counts = {}, {}
    for split in SPLITS:
        ids[split], unknown_counts[split] = words_to_ids(split_words[split], word_to_id)
    return Corpus(**ids, word_to_id=word_to_id, unknown_counts=unknown_counts)


def check_vocabulary(corpus: Corpus, vocab_size: int) -> None:
    """Refuses a corpus whose vocabulary does not fit a softmax over vocab_size words."""
    if corpus.vocabulary_size > vocab_size:
        raise DataError(
            f"the training split has {corpus.vocabulary_size} distinct words but "
            f"vocab_size is {vocab_size}; pass --vocab_size={corpus.vocabulary_size}."
        )


def load_corpus(data_path: str) -> Corpus:
    """Reads `ptb.{train,valid,test}.txt` from a directory (no checksum)."""
    needs = (
        "a corpus directory needs ptb.train.txt, ptb.valid.txt and ptb.test.txt (for PTB: "
        f"the data/ folder of {PTB_ARCHIVE})."
    )
    if not os.path.isdir(data_path):
        raise DataError(f"{data_path} is not a directory; {needs}")
    missing = [
        split_filename(s)
        for s in SPLITS
        if not os.path.isfile(os.path.join(data_path, split_filename(s)))
    ]
    if missing:
        raise DataError(f"{data_path} lacks {', '.join(missing)}; {needs}")
    return corpus_from_words(
        {s: read_words(os.path.join(data_path, split_filename(s))) for s in SPLITS}
    )


def ptb_raw_data(data_path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The tutorial's entry point: (train_ids, valid_ids, test_ids, vocabulary_size)."""
    corpus = load_corpus(data_path)
    return corpus.train, corpus.valid, corpus.test, corpus.vocabulary_size


@dataclasses.dataclass(frozen=True)
class Batches:
    """One epoch of `[batch_size, num_steps]` windows over an id stream.

    Iterating yields (x, y) numpy pairs, each of shape (batch_size, num_steps),
    with y = x shifted one id to the right in the same row.
    """

    data: np.ndarray  # (batch_size, batch_len): row r is a contiguous slice
    num_steps: int

    @property
    def batch_size(self) -> int:
        return self.data.shape[0]

    @property
    def batch_len(self) -> int:
        return self.data.shape[1]

    @property
    def epoch_size(self) -> int:
        return (self.batch_len - 1) // self.num_steps

    def window(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Window i: x = data[:, i*T:(i+1)*T], y = the same shifted by one."""
        return self.window_at(i * self.num_steps, self.num_steps)

    def window_at(self, start: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The window of num_steps columns from column start (for varying lengths)."""
        x = self.data[:, start : start + num_steps]
        y = self.data[:, start + 1 : start + num_steps + 1]
        return x, y

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(self.epoch_size):
            yield self.window(i)

    def __len__(self) -> int:
        return self.epoch_size


def ptb_producer(raw_data, batch_size: int, num_steps: int) -> Batches:
    """Folds an id stream into the tutorial's `[batch_size, num_steps]` windows.

    Args:
      raw_data: 1-D sequence of int ids.
      batch_size: number of rows (independent streams read in parallel).
      num_steps: window length (how far back truncated BPTT reaches).

    Returns:
      `Batches` with `epoch_size` windows; see the module docstring for the layout.

    Raises:
      DataError (a ValueError): the data is too short for even one window.
    """
    if batch_size < 1 or num_steps < 1:
        raise DataError(
            f"batch_size ({batch_size}) and num_steps ({num_steps}) must be at least 1."
        )
    raw_data = np.asarray(raw_data, dtype=np.int32)
    batch_len = len(raw_data) // batch_size
    data = raw_data[: batch_size * batch_len].reshape(batch_size, batch_len)
    batches = Batches(data=data, num_steps=num_steps)
    if batches.epoch_size <= 0:
        raise DataError(
            f"epoch_size == 0: {len(raw_data)} ids cannot fill one window of "
            f"batch_size {batch_size} x num_steps {num_steps}; "
            "decrease batch_size or num_steps."
        )
    return batches
