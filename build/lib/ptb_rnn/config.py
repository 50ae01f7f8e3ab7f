"""Hyperparameters of the PTB tutorial (`ptb_word_lm.py`), field for field.

The tutorial's results (Zaremba et al. 2014 recipe):

| config | epochs | train  | valid  | test   |
|--------|--------|--------|--------|--------|
| small  | 13     | 37.99  | 121.39 | 115.91 |
| medium | 39     | 48.45  | 86.16  | 82.07  |
| large  | 55     | 37.87  | 82.62  | 78.29  |

Glossary (the tutorial's names):
  init_scale     weights start uniform in [-init_scale, init_scale]
  learning_rate  initial SGD learning rate
  max_grad_norm  gradients are clipped to this global norm
  num_layers     number of stacked LSTM layers
  num_steps      unrolled time steps per window (truncated BPTT length)
  hidden_size    LSTM units, also the embedding size
  max_epoch      epochs trained at the initial learning rate
  max_max_epoch  total epochs
  keep_prob      probability of keeping an activation in dropout
  lr_decay       learning-rate factor per epoch after max_epoch
  batch_size     rows: independent streams trained in parallel
  vocab_size     words in the vocabulary
"""

import dataclasses
import math


class ConfigError(ValueError):
    """A configuration value that cannot be used, with what to do about it."""


@dataclasses.dataclass(frozen=True)
class Config:
    init_scale: float = 0.1
    learning_rate: float = 1.0
    max_grad_norm: float = 5.0
    num_layers: int = 2
    num_steps: int = 20
    hidden_size: int = 200
    max_epoch: int = 4
    max_max_epoch: int = 13
    keep_prob: float = 1.0
    lr_decay: float = 0.5
    batch_size: int = 20
    vocab_size: int = 10000

    def __post_init__(self):
        positive = (
            "init_scale",
            "learning_rate",
            "max_grad_norm",
            "num_layers",
            "num_steps",
            "hidden_size",
            "max_epoch",
            "max_max_epoch",
            "lr_decay",
            "batch_size",
            "vocab_size",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"{name} must be positive, got {getattr(self, name)}; "
                    f"pass --{name} with a value above 0."
                )
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(
                    f"{name} must be a finite number, got {getattr(self, name)}; "
                    f"pass --{name} with a number."
                )
        if not 0 < self.keep_prob <= 1:
            raise ConfigError(
                f"keep_prob must be in (0, 1], got {self.keep_prob}; "
                "pass e.g. --keep_prob=0.5 (1.0 turns dropout off)."
            )

    def learning_rate_at(self, epoch: int) -> float:
        """The tutorial's schedule; `epoch` counts from 0."""
        return self.learning_rate * self.lr_decay ** max(epoch + 1 - self.max_epoch, 0.0)


CONFIGS = {
    "small": Config(),
    "medium": Config(
        init_scale=0.05,
        num_steps=35,
        hidden_size=650,
        max_epoch=6,
        max_max_epoch=39,
        keep_prob=0.5,
        lr_decay=0.8,
    ),
    "large": Config(
        init_scale=0.04,
        max_grad_norm=10.0,
        num_steps=35,
        hidden_size=1500,
        max_epoch=14,
        max_max_epoch=55,
        keep_prob=0.35,
        lr_decay=1 / 1.15,
    ),
    # Tiny, for checking that everything runs.
    "test": Config(
        max_grad_norm=1.0,
        num_layers=1,
        num_steps=2,
        hidden_size=2,
        max_epoch=1,
        max_max_epoch=1,
    ),
}


def get_config(name: str, **overrides) -> Config:
    """A preset with some fields replaced, e.g. `get_config("small", num_steps=35)`."""
    if name not in CONFIGS:
        raise ConfigError(f"unknown config {name!r}; choose one of {', '.join(CONFIGS)}.")
    return dataclasses.replace(CONFIGS[name], **overrides)
