"""One description of a training run, and the one check of its inputs.

A `RunSpec` is built once, from the command line (`cli.spec_from_flags`) or in Python,
and passed down whole: the trainer, the experiments and the benchmark read their
settings from it, never from flags.

    spec = RunSpec(get_config("small"), seed=1, checkpoint_every_steps=500)
    spec.check(corpus)        # bad input ends here, before TensorFlow is imported
    trainer.train_and_evaluate(spec, corpus, "runs/small")

Its fields are of two kinds. What decides the numbers (config, truncation, seed and the
corpus) is the run's `identity`: a work directory holding another identity's checkpoints
is refused. How they are computed (windows per call, the checkpoint interval, the LSTM
implementation, determinism, the distribution strategy) is not part of it, so a run can
be resumed with a different computation layout; nor is what is measured along the way.

This module does not import TensorFlow.
"""

import dataclasses
import hashlib
import json

import numpy as np

from ptb_rnn import reader
from ptb_rnn.config import Config, ConfigError
from ptb_rnn.truncation import TBPTT, Truncation

# Training and validation hand this many windows to one compiled call.
WINDOWS_PER_CALL = 50

# Seeds go to keras.utils.set_random_seed, which takes 32 bits.
MAX_SEED = 2**32 - 1


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What to train and how.

    Attributes:
      config: the hyperparameters.
      truncation: window lengths and state carry; the default is the tutorial's.
      seed: initial weights and dropout masks.
      checkpoint_every_steps: a checkpoint every this many windows (updates) of an
        epoch and at each epoch end, resuming from the latest one in the work
        directory; None: no checkpoints.
      windows_per_call: windows per compiled call (fewer calls, less overhead).
      fused_lstm: `lstm.FusedLSTM` (default) or `keras.layers.LSTM`: the same
        mathematics, a different speed.
      deterministic: deterministic TensorFlow ops (for the whole process).
      curve_points_per_epoch: measure validation perplexity at batch size 1 this many
        times an epoch during training (`callbacks.ValidationCurve`); 0: only at the end.
      strategy: how training is spread over devices; only "one_device" today.
    """

    config: Config
    truncation: Truncation = TBPTT
    seed: int = 0
    checkpoint_every_steps: int | None = None
    windows_per_call: int = WINDOWS_PER_CALL
    fused_lstm: bool = True
    deterministic: bool = False
    curve_points_per_epoch: int = 0
    strategy: str = "one_device"

    def identity(self, corpus: reader.Corpus) -> dict:
        """What makes two runs the same run, as JSON values: only the same run may resume."""
        digest = hashlib.sha256()
        for split in reader.SPLITS:
            ids = np.ascontiguousarray(getattr(corpus, split), dtype=np.int32)
            digest.update(f"{split} {len(ids)}\n".encode())
            digest.update(ids.tobytes())
        identity = {
            "config": dataclasses.asdict(self.config),
            "truncation": dataclasses.asdict(self.truncation),
            "seed": self.seed,
            "corpus_sha256": digest.hexdigest(),
        }
        return json.loads(json.dumps(identity))  # tuples become lists, as when read back

    def check(self, corpus: reader.Corpus) -> None:
        """Checks that the run can start on this corpus; call it once, before training.

        Raises:
          reader.DataError: the vocabulary is larger than vocab_size, or the training
            split cannot fill one window of the longest length training uses, or the
            validation split one of the final length.
          ConfigError: the seed is out of range.
        """
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be in [0, {MAX_SEED}], got {self.seed}; pass --seed=0.")
        config, truncation = self.config, self.truncation
        reader.check_vocabulary(corpus, config.vocab_size)
        reader.ptb_producer(
            corpus.train, config.batch_size, truncation.longest_num_steps(config.num_steps)
        )
        reader.ptb_producer(
            corpus.valid, config.batch_size, truncation.final_num_steps(config.num_steps)
        )

    @property
    def eval_num_steps(self) -> int:
        """The window length of validation in the training layout: training's last."""
        return self.truncation.final_num_steps(self.config.num_steps)

    @property
    def reset_every(self) -> int | None:
        """How a batch-size-1 stream is read "as trained": None (the state carried
        throughout) or every how many words the state restarts from zeros."""
        return None if self.truncation.carry_state else self.eval_num_steps
