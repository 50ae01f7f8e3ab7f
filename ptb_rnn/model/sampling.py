"""Writing text with a trained model: read a prime, then draw one word at a time.

    options = Sampling(num_words=50, temperature=0.8, top_k=40, seed=1)
    for words in samples(lm, ["the", "company", "said"], options):
        print(to_text(words))

The prime is read as the start of a sentence: the model first reads `<eos>` from the zero
state, as every sentence of the training text but the first follows an `<eos>`, then the
prime's words with the state carried from word to word, as the test protocol reads a text;
then each drawn word is fed back in, the state carried on. Read from the zero state itself
(`prime_starts_sentence=False`), a prime is read as the first words of a text, where
training rarely starts a row, and a trained model tends to end the line right after it.
Several samples are drawn side by side, one batch row each, at most ROWS_PER_BATCH at a
time: `samples` yields each batch's samples once they are drawn, so that the memory does
not grow with num_samples and a caller can print each sample as it comes.

How a word is drawn from the model's next-word distribution p:

  temperature  p^(1/temperature), renormalised: below 1 sharper, above 1 flatter;
               0 takes the most likely word (greedy), with no randomness; a tiny
               temperature (1e-310) comes to the same.
  top_k        only the top_k most likely words can be drawn (ties with the k-th too);
               0: any word. 1 is greedy.
  seed         numpy's Generator(seed) draws: the same model, prime, options and seed
               give the same text.

Only words of the vocabulary are drawn (a softmax wider than the vocabulary has outputs
no word was trained on).

A prime word outside the vocabulary is an error (`check_prime`), not read as `<unk>`: it
is most often a spelling PTB does not use (its text is lower case, numbers are N), and
a model primed with `<unk>` continues after an unknown word, rarely what was meant.
Write `<unk>` in the prime to mean an unknown word. An empty prime starts a sentence
whatever `prime_starts_sentence` says: the model reads `<eos>`.

This module does not import TensorFlow (the model does), so that the command line can
check a prime before TensorFlow starts.
"""

import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np

from ptb_rnn import reader
from ptb_rnn.config import ConfigError
from ptb_rnn.model import keras_file

# Samples drawn side by side at most (a batch); more are drawn batch after batch. Each row
# holds a few float64 copies of a (vocab_size,) distribution: about 100 MB for PTB's.
ROWS_PER_BATCH = 256


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How to draw: see the module docstring.

    Raises:
      ConfigError: a value out of range, naming its flag.
    """

    num_words: int = 50  # words drawn after the prime
    temperature: float = 1.0  # 0: greedy
    top_k: int = 0  # 0: any word
    seed: int = 0
    num_samples: int = 1
    prime_starts_sentence: bool = True  # read <eos> before the prime; False: from zeros

    def __post_init__(self):
        for name in ("num_words", "num_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"--{name} must be at least 1, got {getattr(self, name)}; pass e.g. --{name}=3."
                )
        if not (self.temperature >= 0 and math.isfinite(self.temperature)):
            raise ConfigError(
                f"--temperature must be a number >= 0, got {self.temperature}; pass e.g. "
                "--temperature=0.8 (1 draws from the model's distribution, 0 is greedy)."
            )
        if self.top_k < 0:
            raise ConfigError(
                f"--top_k must be >= 0, got {self.top_k}; pass e.g. --top_k=40 (0 draws "
                "from all words, 1 is greedy)."
            )
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}; pass e.g. --seed=1.")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0 or self.top_k == 1


def check_prime(
    prime: Sequence[str], vocabulary: Sequence[str], starts_sentence: bool = True
) -> None:
    """Refuses a prime with words outside the vocabulary (see the module docstring), or
    one to be read as the start of a sentence by a model with no `<eos>`.

    Raises:
      reader.DataError: naming those words, or the missing `<eos>`.
    """
    if reader.EOS not in vocabulary:
        if not prime:
            raise reader.DataError(
                f"the model's vocabulary has no {reader.EOS} to start a sentence from; give a "
                "--prime of words of its vocabulary."
            )
        if starts_sentence:
            raise reader.DataError(
                f"the model's vocabulary has no {reader.EOS} to start a sentence from; pass "
                "--noprime_starts_sentence to read the prime from the zero state."
            )
    unknown = keras_file.unknown_words(prime, vocabulary)
    if unknown:
        one = len(unknown) == 1
        raise reader.DataError(
            f"the prime has {'a word' if one else 'words'} outside the model's vocabulary: "
            f"{keras_file.quote_some(unknown)}; write {'it' if one else 'them'} as the "
            f"training text does (PTB: lower case, N for a number), or {reader.UNK} for a "
            "word it lacks."
        )


def draw(log_probs: np.ndarray, sampling: Sampling, rng: np.random.Generator) -> np.ndarray:
    """One word id per row, drawn with the sampling's temperature and top_k.

    Args:
      log_probs: (rows, num_words) log-probabilities of the next word.
      sampling: the temperature and top_k.
      rng: the source of randomness (unused when greedy).

    Returns:
      (rows,) int ids.
    """
    if sampling.greedy:
        return np.argmax(log_probs, axis=-1)
    log_probs = log_probs.astype(np.float64)
    # The most likely word's log-probability is subtracted before dividing: a tiny
    # temperature then sends every other word to -inf (greedy), where dividing first sent
    # them all there (a NaN).
    with np.errstate(over="ignore"):
        scaled = (log_probs - log_probs.max(axis=-1, keepdims=True)) / sampling.temperature
    if 0 < sampling.top_k < scaled.shape[-1]:
        kth_largest = np.partition(scaled, -sampling.top_k, axis=-1)[:, -sampling.top_k]
        scaled = np.where(scaled >= kth_largest[:, np.newaxis], scaled, -np.inf)
    probs = np.exp(scaled)  # unnormalised; the most likely word's is 1
    cumulative = np.cumsum(probs, axis=-1)
    # u in (0, total]: the first word whose cumulative mass reaches u has a mass above 0.
    u = (1.0 - rng.random(len(probs))) * cumulative[:, -1]
    return (cumulative < u[:, np.newaxis]).sum(axis=-1)


def samples(language_model, prime: Sequence[str], sampling: Sampling) -> Iterator[list[str]]:
    """Reads the prime, then draws sampling.num_words words, for each of num_samples rows.

    The prime is read once, at batch size 1; the rows are drawn ROWS_PER_BATCH at a
    time from the state after it. The draws come from one generator seeded once, so the
    same seed gives the same samples.

    Args:
      language_model: a `language_model.LanguageModel`.
      prime: words to start from, read after an `<eos>` unless
        sampling.prime_starts_sentence is False; empty: the start of a sentence.
      sampling: how many words and samples, how they are drawn, how the prime is read.

    Yields:
      num_samples lists of num_words drawn words (the prime not included), each batch's
      once it is drawn.

    Raises:
      reader.DataError: a prime word is outside the vocabulary (or no `<eos>` to start from).
    """
    vocabulary = language_model.vocabulary
    check_prime(prime, vocabulary, sampling.prime_starts_sentence)
    rng = np.random.default_rng(sampling.seed)
    read = list(prime)
    if not read or (sampling.prime_starts_sentence and read[0] != reader.EOS):
        read.insert(0, reader.EOS)  # a prime that starts with <eos> is at a sentence start
    prime_ids = language_model.words_to_ids(read)
    log_probs, state = language_model.log_probs(
        prime_ids[np.newaxis], language_model.zero_state(1)
    )  # (1, len(read), vocab_size)
    after_prime = log_probs[:, -1, : len(vocabulary)].numpy()  # (1, len(vocabulary))
    state_after_prime = [(h.numpy(), c.numpy()) for h, c in state]  # each (1, hidden_size)
    for first_row in range(0, sampling.num_samples, ROWS_PER_BATCH):
        rows = min(ROWS_PER_BATCH, sampling.num_samples - first_row)
        next_log_probs = np.repeat(after_prime, rows, axis=0)  # (rows, len(vocabulary))
        state = tuple((np.repeat(h, rows, 0), np.repeat(c, rows, 0)) for h, c in state_after_prime)
        drawn = []
        for i in range(sampling.num_words):
            drawn.append(draw(next_log_probs, sampling, rng))
            if i + 1 < sampling.num_words:
                inputs = drawn[-1][:, np.newaxis].astype(np.int32)  # (rows, 1): fed back in
                log_probs, state = language_model.log_probs(inputs, state)  # (rows, 1, vocab)
                next_log_probs = log_probs[:, -1, : len(vocabulary)].numpy()
        for row in np.stack(drawn, axis=1):
            yield language_model.ids_to_words(row)


def sample(language_model, prime: Sequence[str], sampling: Sampling) -> list[list[str]]:
    """All of `samples`, as a list."""
    return list(samples(language_model, prime, sampling))


def to_text(words: Sequence[str]) -> str:
    """Words as text: a space between words, a line break for each `<eos>`."""
    text = ""
    for word in words:
        if word == reader.EOS:
            text += "\n"
        else:
            text += (" " if text and not text.endswith("\n") else "") + word
    return text
