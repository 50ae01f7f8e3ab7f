"""Any text scored by a saved model, with the tutorial's test protocol.

    lm = language_model.load("runs/small/model.keras")
    score = score_text(lm, reader.read_words("my.txt"))
    score.perplexity, score.unknown_count

The words are read as a PTB split is (each line end is `<eos>`) and mapped to ids
through the model's table: a word outside the vocabulary is read as `<unk>` and counted.
The id stream is scored by `evaluate_stream`, exactly as training scores its test
split: batch size 1, the state carried through the whole text, the first word given and
every other word predicted once. On PTB's test split this is the run's test perplexity.
"""

import dataclasses
import json

import numpy as np

from ptb_rnn import evaluate, reader
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.training import steps

# The first word is only read: a perplexity needs at least one word predicted after it.
MIN_WORDS = 2


@dataclasses.dataclass(frozen=True)
class TextScore:
    """How well a model predicts a text.

    Attributes:
      words: the text's words, `<eos>` for each line end; (num_words,).
      unknown: for each word, whether it is outside the vocabulary (read as `<unk>`).
      perplexity: exp of the mean negative log-probability of words[1:] (nats).
      log_probs: None, or the log-probability of each of words[1:] given the words
        before it, (num_words - 1,).
    """

    words: list[str]
    unknown: np.ndarray
    perplexity: float
    log_probs: np.ndarray | None = None

    @property
    def num_predictions(self) -> int:
        return len(self.words) - 1

    @property
    def unknown_count(self) -> int:
        return int(self.unknown.sum())

    @property
    def log_prob(self) -> float:
        """The text's log-probability (nats) given its first word: the per-word sum."""
        return -self.num_predictions * float(np.log(self.perplexity))


def score_text(language_model: LanguageModel, words: list[str], per_word: bool = False):
    """Perplexity of a text at batch size 1 with the state carried, as training reports it.

    Args:
      language_model: a loaded model.
      words: the text, e.g. `reader.read_words(path)`; at least MIN_WORDS.
      per_word: also the log-probability of every predicted word (`target_log_probs`,
        a second pass over the text).

    Returns:
      The TextScore.

    Raises:
      reader.DataError: fewer than MIN_WORDS words, or a word outside a vocabulary that
        has no `<unk>`.
    """
    if len(words) < MIN_WORDS:
        raise reader.DataError(
            f"the text has {len(words)} word{'' if len(words) == 1 else 's'}; a perplexity "
            f"needs at least {MIN_WORDS} (the first word is only read); give a longer text."
        )
    ids = language_model.words_to_ids(words)
    unknown = np.zeros(len(words), bool)  # without <unk>, words_to_ids refuses unknown words
    if language_model.unk_id is not None:
        unknown = (ids == language_model.unk_id) & (np.asarray(words) != reader.UNK)
    network = language_model.network
    perplexity = evaluate.evaluate_stream(steps.make_eval_steps(network), network, ids)
    log_probs = None
    if per_word:
        log_probs = evaluate.target_log_probs(steps.make_log_prob_steps(network), network, ids)
    return TextScore(words, unknown, perplexity, log_probs)


def per_word_jsonl(score: TextScore) -> str:
    """One JSON line per predicted word: {"word", "log_prob"}, and "unk": true for a word
    read as `<unk>`. The first word, only read, has no line."""
    lines = []
    for word, log_prob, unknown in zip(score.words[1:], score.log_probs, score.unknown[1:]):
        line = {"word": word, "log_prob": float(log_prob)}
        if unknown:
            line["unk"] = True
        lines.append(json.dumps(line) + "\n")
    return "".join(lines)


def summary(score: TextScore) -> str:
    """What the command line prints: words, unknown words, log-probability, perplexity."""
    return (
        f"words: {len(score.words)} ({score.num_predictions} predicted: all but the first)\n"
        f"outside the vocabulary: {score.unknown_count} (read as {reader.UNK})\n"
        f"log-probability: {score.log_prob:.4f} nats\n"
        f"perplexity: {score.perplexity:.4f}"
    )
