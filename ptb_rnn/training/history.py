"""The record of a training run: per-epoch numbers, final evaluation, machine.

`History` is what `results.json` holds, field for field, and what a checkpoint carries
as "the results so far". This module does not import TensorFlow.
"""

import dataclasses
import importlib.metadata
import os
import platform
import sys

import numpy as np

from ptb_rnn import truncation


@dataclasses.dataclass
class History:
    """What a run has measured so far.

    Attributes:
      config, truncation: the run's (as dicts: `dataclasses.asdict`).
      learning_rate, train_perplexity, valid_perplexity_training_layout,
        train_words_per_second: one value per finished epoch. Train perplexity is the
        running one over the epoch, as in the tutorial; valid is measured at the epoch
        end in the training layout (batch_size rows, windows of the final num_steps, the
        state as in training), not at batch size 1 as `eval` is. Results written before
        the name said so call it "valid_perplexity" (`from_json` reads both).
      train_words: words trained on so far, at the end of each epoch.
      elapsed_seconds: wall time so far, at the end of each epoch.
      train_seconds: training time so far (the compiled calls only: no validation,
        checkpoints or start-up), at the end of each epoch.
      curve: validation points measured during training (`callbacks.ValidationCurve`),
        each {"epoch", "step", "words", "train_seconds", "carried", "trained_state"}.
      machine: the machine the run started on (`machine_description()`), and the
        strategy and number of replicas it started with ("strategy", "replicas").
      identity: what decides the numbers (`RunSpec.identity`): a work directory whose
        results.json holds another identity is not trained in (`files.check_same_run`).
      eval: after training, at batch size 1, {"carried": {"valid": p, "test": p},
        "trained_state": ...} (see `trainer.train_and_evaluate`); None before.
      test_perplexity: eval["carried"]["test"], the tutorial's number.
      words_per_second: the mean of train_words_per_second.
      wall_seconds: the whole run's wall time.
    """

    config: dict
    truncation: dict
    learning_rate: list[float] = dataclasses.field(default_factory=list)
    train_perplexity: list[float] = dataclasses.field(default_factory=list)
    valid_perplexity_training_layout: list[float] = dataclasses.field(default_factory=list)
    train_words_per_second: list[float] = dataclasses.field(default_factory=list)
    train_words: list[int] = dataclasses.field(default_factory=list)
    elapsed_seconds: list[float] = dataclasses.field(default_factory=list)
    train_seconds: list[float] = dataclasses.field(default_factory=list)
    curve: list[dict] = dataclasses.field(default_factory=list)
    machine: dict = dataclasses.field(default_factory=dict)
    identity: dict | None = None
    eval: dict | None = None
    test_perplexity: float | None = None
    words_per_second: float | None = None
    wall_seconds: float | None = None

    @property
    def epochs_done(self) -> int:
        return len(self.train_perplexity)

    @property
    def words_so_far(self) -> int:
        return self.train_words[-1] if self.train_words else 0

    @property
    def seconds_so_far(self) -> float:
        return self.elapsed_seconds[-1] if self.elapsed_seconds else 0.0

    @property
    def train_seconds_so_far(self) -> float:
        return self.train_seconds[-1] if self.train_seconds else 0.0

    def add_epoch(
        self,
        learning_rate: float,
        train_perplexity: float,
        valid_perplexity: float,
        words_per_second: float,
        train_words: int,
        elapsed_seconds: float,
        train_seconds: float,
    ) -> None:
        """Records a finished epoch (words and seconds are totals so far)."""
        self.learning_rate.append(learning_rate)
        self.train_perplexity.append(train_perplexity)
        self.valid_perplexity_training_layout.append(valid_perplexity)
        self.train_words_per_second.append(words_per_second)
        self.train_words.append(train_words)
        self.elapsed_seconds.append(elapsed_seconds)
        self.train_seconds.append(train_seconds)

    def finish(self, evaluation: dict, wall_seconds: float) -> None:
        """Records the final evaluation ({"carried": ..., "trained_state": ...})."""
        self.eval = evaluation
        self.test_perplexity = evaluation["carried"]["test"]
        self.words_per_second = float(np.mean(self.train_words_per_second))
        self.wall_seconds = wall_seconds

    def to_json(self) -> dict:
        """The results.json dict; fields not measured yet are left out."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, value: dict) -> "History":
        """The History that `to_json` gave value from, or an older results.json.

        A results.json older than the truncation modes has no "truncation": its run
        trained as the tutorial does (`truncation.TBPTT`). One older than the name
        "valid_perplexity_training_layout" has it as "valid_perplexity".
        """
        value = dict(value)
        if "valid_perplexity" in value:
            value["valid_perplexity_training_layout"] = value.pop("valid_perplexity")
        return cls(**{"truncation": dataclasses.asdict(truncation.TBPTT), **value})


def machine_description() -> dict:
    """What the numbers were measured on: CPU model and family, cores, library versions.

    The CPU family tells the two kinds of machine apart (see docs/performance.md):
    speeds are comparable only between runs on the same kind.
    """
    cpuinfo = {}  # the first processor's fields
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                cpuinfo.setdefault(key.strip(), value.strip())
    family = cpuinfo.get("cpu family")
    return {
        "cpu": cpuinfo.get("model name", platform.processor() or platform.machine()),
        "cpu_family": int(family) if family and family.isdigit() else family,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
