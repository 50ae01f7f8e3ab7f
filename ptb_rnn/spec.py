"""One description of a training run, and the one check of its inputs.

A `RunSpec` is built once, from the command line (`cli.spec_from_flags`) or in Python,
and passed down whole: the trainer, the experiments and the benchmark read their
settings from it, never from flags.

    spec = RunSpec(get_config("small"), seed=1, checkpoint_every_steps=500)
    spec.check(corpus)        # bad input ends here, before TensorFlow is imported
    trainer.train_and_evaluate(spec, corpus, "runs/small")

Its fields are of two kinds. What decides the numbers (config, truncation, seed, the
softmax path, the precision and the corpus) is the run's `identity`: a work directory
holding another identity's checkpoints is refused. The run's length, max_max_epoch, is
part of it only when the window lengths ramp over the whole run: otherwise an epoch's
learning rate and windows depend on its index alone, so the first epochs of a longer
run are those of a shorter one, and a finished run can be extended
(`files.check_run_length`). How they are computed (windows per
call, the checkpoint interval, the LSTM implementation, determinism, the distribution
strategy) is not part of it, so a run can be resumed with a different computation
layout; nor is what is measured along the way.

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

# The softmax layer and loss: Keras Dense + automatic gradient, or softmax.py's fused one.
# (the default first).
SOFTMAXES = ("dense", "fused")
# The matmuls' input precision (precision.py); everything else is float32.
PRECISIONS = ("float32", "mixed_bfloat16")
# The initial weights: each its own uniform draw, or one initializer shared by all, as
# the runs recorded before "independent" were made (network.PTBModel).
INITIALIZERS = ("independent", "shared")
# Settings the identity leaves out at the value every run had before the setting existed,
# so that the records of those runs stay valid.
UNRECORDED = {"softmax": "dense", "precision": "float32", "initializer": "shared"}
# How training is spread (replicas.py): one device; the devices of this machine; the
# machines TF_CONFIG lists (cluster.py).
STRATEGIES = ("one_device", "mirrored", "multi_worker")


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
      strategy: how training is spread over replicas (replicas.py): "one_device",
        "mirrored" (this machine's GPUs, or cpu_devices logical CPUs) or
        "multi_worker" (the workers TF_CONFIG names): the one-device numbers, to
        float32 rounding.
      cpu_devices: with "mirrored" on a machine without GPUs, split the CPU into this
        many logical devices, one replica each.
      softmax: "dense" (default; `keras.layers.Dense`, `softmax.sequence_loss` and
        automatic gradients) or "fused" (`softmax.fused_sequence_loss`, a hand-written
        gradient): the same loss to float32 rounding, a different speed. Dense stays
        the default so that the recorded results reproduce bit for bit; fused was
        1.03-1.04x faster (docs/performance.md).
      precision: "float32" (the tutorial's) or "mixed_bfloat16": bfloat16 matmul
        inputs, everything else float32 (precision.py; needs fused_lstm).
      initializer: "independent" (the tutorial's: every weight its own uniform draw)
        or "shared" (every weight starts with the same leading values, as the runs
        recorded before the option existed; `network.PTBModel`).
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
    cpu_devices: int = 1
    softmax: str = "dense"
    precision: str = "float32"
    initializer: str = "independent"

    def identity(self, corpus: reader.Corpus) -> dict:
        """What makes two runs the same run, as JSON values: only the same run may resume
        (or, of a different length, extend: see the module docstring)."""
        digest = hashlib.sha256()
        for split in reader.SPLITS:
            ids = np.ascontiguousarray(getattr(corpus, split), dtype=np.int32)
            digest.update(f"{split} {len(ids)}\n".encode())
            digest.update(ids.tobytes())
        config = dataclasses.asdict(self.config)
        if not self.truncation.depends_on_run_length:
            # The learning rate of epoch e is config.learning_rate_at(e), whatever the
            # length; records that hold max_max_epoch are not compared on it.
            del config["max_max_epoch"]
        identity = {
            "config": config,
            "truncation": dataclasses.asdict(self.truncation),
            "seed": self.seed,
            "corpus_sha256": digest.hexdigest(),
        }
        for name, unrecorded in UNRECORDED.items():
            if getattr(self, name) != unrecorded:
                identity[name] = getattr(self, name)
        return json.loads(json.dumps(identity))  # tuples become lists, as when read back

    def check(self, corpus: reader.Corpus) -> None:
        """Checks that the run can start on this corpus; call it once, before training.

        Everything that would otherwise fail later (at the first validation, at the
        final evaluation, or as an out-of-memory kill) fails here, before anything is
        written or TensorFlow is imported.

        Raises:
          reader.DataError: the vocabulary is larger than vocab_size, or a split is too
            short for what it is used for: train for one window of the longest length
            training uses, valid for one of the final length, test for one prediction.
          ConfigError: the seed is out of range, the softmax or precision unknown (see
            `check_computation`), or the run needs more memory than the machine has
            available.
        """
        self.check_computation()
        self.check_corpus(corpus)

    def check_corpus(self, corpus: reader.Corpus) -> None:
        """The checks of `check` that need the corpus (the command line runs
        `check_computation` first, before it sets up TensorFlow)."""
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be in [0, {MAX_SEED}], got {self.seed}; pass --seed=0.")
        config, truncation = self.config, self.truncation
        reader.check_vocabulary(corpus, config.vocab_size)
        shorter = "--num_steps"
        if truncation.schedule:
            shorter = "the window lengths of --truncation_schedule"
        for split, num_steps in (
            ("train", truncation.longest_num_steps(config.num_steps)),
            ("valid", self.eval_num_steps),
        ):
            # Each row holds the window and, one word further, its last target.
            needs = config.batch_size * (num_steps + 1)
            if len(getattr(corpus, split)) < needs:
                raise reader.DataError(
                    f"{split} split: {len(getattr(corpus, split))} words, needs at least "
                    f"{needs} to fill one window of batch_size {config.batch_size} x "
                    f"num_steps {num_steps}; give it more text, or decrease --batch_size "
                    f"or {shorter}."
                )
        if len(corpus.test) < 2:
            words = "1 word" if len(corpus.test) == 1 else f"{len(corpus.test)} words"
            raise reader.DataError(
                f"test split: {words}, needs at least 2 for the evaluation (one word to "
                "predict the next); give it more text."
            )
        self._check_memory()

    def check_computation(self) -> None:
        """Checks the settings that need no corpus: softmax, precision, initializer and
        strategy.

        Raises:
          ConfigError: an unknown softmax, precision, initializer or strategy, mixed_bfloat16 with
            keras.layers.LSTM, or (mirrored) cpu_devices that cannot share the batch's
            rows.
        """
        for name, value, known in (
            ("softmax", self.softmax, SOFTMAXES),
            ("precision", self.precision, PRECISIONS),
            ("initializer", self.initializer, INITIALIZERS),
            ("strategy", self.strategy, STRATEGIES),
        ):
            if value not in known:
                raise ConfigError(
                    f"{name} must be one of {', '.join(known)}, got {value!r}; "
                    f"pass --{name}={known[0]}."
                )
        if self.precision != "float32" and not self.fused_lstm:
            raise ConfigError(
                f"precision {self.precision} needs the fused LSTM; drop --nofused_lstm."
            )
        if self.strategy == "mirrored":
            check_rows_per_replica(self.config.batch_size, self.cpu_devices, "--cpu_devices device")

    def memory_bytes(self) -> dict[str, int]:
        """A lower estimate of the memory training needs, in bytes, by what needs it.

        Returns:
          {"weights": the weights and their gradients, "activations": what one window's
          forward and backward pass keep (the logits, their softmax and its gradient,
          and about ten vectors per LSTM layer and step)}.
        """
        c = self.config
        lstm_weights = sum(4 * c.hidden_size * (2 * c.hidden_size + 1) for _ in range(c.num_layers))
        weights = 2 * c.vocab_size * c.hidden_size + c.vocab_size + lstm_weights
        positions = c.batch_size * self.truncation.longest_num_steps(c.num_steps)
        activations = positions * (3 * c.vocab_size + 10 * c.num_layers * c.hidden_size)
        return {"weights": 4 * 2 * weights, "activations": 4 * activations}  # float32

    def _check_memory(self) -> None:
        needs = self.memory_bytes()
        available = available_memory_bytes()
        if available is None or sum(needs.values()) <= available:
            return
        gib = {name: value / 2**30 for name, value in needs.items()}
        raise ConfigError(
            f"the run needs at least {sum(gib.values()):.1f} GiB of memory (weights and "
            f"gradients {gib['weights']:.1f}, one window's activations "
            f"{gib['activations']:.1f}) and this machine has {available / 2**30:.1f} GiB "
            "available; reduce --hidden_size, --vocab_size, --batch_size or --num_steps."
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


def check_rows_per_replica(batch_size: int, replicas: int, what: str) -> None:
    """Checks that the batch's rows split into equal blocks, one per replica.

    Args:
      batch_size: rows of every window.
      replicas: how many share them.
      what: what a replica is, for the message: "worker", "replica"...

    Raises:
      ConfigError: they do not.
    """
    if replicas < 1 or batch_size % replicas:
        raise ConfigError(
            f"batch_size {batch_size} cannot be split into {replicas} equal blocks of rows, "
            f"one per {what}; pass a --batch_size divisible by {replicas}."
        )


def available_memory_bytes() -> int | None:
    """The memory the machine can give a new process (Linux's MemAvailable), if known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
