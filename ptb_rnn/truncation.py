"""How far back the gradient reaches, and whether the LSTM state is carried.

Truncated BPTT has two knobs:

* num_steps (k): the window length. Each window's loss is backpropagated through its
  k steps and no further, then the weights are updated.
* carry_state: whether a window starts from the final state of the previous window
  (information flows forward across windows, the gradient does not) or from zeros
  (the model never sees anything before the start of its window).

The training modes compared in `ptb_rnn.experiments`:

| mode               | k       | carry | what it is                                     |
|--------------------|---------|-------|------------------------------------------------|
| tbptt              | config  | yes   | the tutorial (k = 20 for small)                |
| stateless_one_step | 1       | no    | sees only the current word: a bigram model     |
| one_step_carry     | 1       | yes   | forward 1 step, backprop 1 step, update, carry |
| windows_reset      | config  | no    | windows of k words, each from a zero state     |
| tbptt_k5           | 5       | yes   | the tutorial with shorter windows              |
| tbptt_k35          | 35      | yes   | the tutorial with longer windows               |
| curriculum         | 1 .. 20 | yes   | k grows during training (`ramp:1,2,5,10,20`)   |
| curriculum_epoch1  | 1 .. 20 | yes   | k grows during the first epoch only, then 20   |

A truncation schedule is either per epoch, `"1,2,5,10,20"` (epoch e trains with the
e-th value, the last one repeating), or a ramp over the whole run, `"ramp:1,2,5,10,20"`
(the run's training words are split into as many equal stages as there are values,
and the window length changes inside an epoch, with the state carried across the change).
"""

import dataclasses

from ptb_rnn.config import Config, ConfigError

RAMP_PREFIX = "ramp:"


@dataclasses.dataclass(frozen=True)
class Truncation:
    """The state handling and window lengths of a training run.

    Attributes:
      carry_state: the final state of a window is the next window's initial state
        (gradient stopped at the edge); otherwise every window starts from zeros.
      schedule: window lengths; empty means the config's num_steps throughout.
      ramp: the schedule spreads over the whole run instead of one value per epoch.
      ramp_epochs: with ramp, spread it over this many epochs instead of the whole
        run (the last value holds after them).
    """

    carry_state: bool = True
    schedule: tuple[int, ...] = ()
    ramp: bool = False
    ramp_epochs: int | None = None

    def __post_init__(self):
        if any(k < 1 for k in self.schedule):
            raise ConfigError(
                f"truncation schedule values must be at least 1, got {self.schedule}."
            )

    @property
    def depends_on_run_length(self) -> bool:
        """A ramp over the whole run: every epoch's windows depend on how many epochs
        the run has. Any other schedule gives epoch e the same windows in a run of any
        length."""
        return self.ramp and self.ramp_epochs is None

    def final_num_steps(self, num_steps: int) -> int:
        """The window length at the end of training (the one the model ends up with)."""
        return self.schedule[-1] if self.schedule else num_steps

    def longest_num_steps(self, num_steps: int) -> int:
        """The longest window training uses."""
        return max(self.schedule) if self.schedule else num_steps

    def window_lengths(
        self, epoch: int, num_epochs: int, batch_len: int, num_steps: int
    ) -> list[int]:
        """The length of each window of one epoch, in order.

        Windows tile the columns 0 .. batch_len - 2 of the `[batch_size, batch_len]`
        data from the left with no gap and no overlap (y needs one column past x); the
        tail too short for the next window is left out, as in the tutorial.

        Args:
          epoch: 0-based epoch.
          num_epochs: epochs in the run (for a ramp).
          batch_len: columns of the epoch's data.
          num_steps: the config's window length, used when there is no schedule.
        """
        usable = batch_len - 1  # columns that have a next word to predict
        lengths = []
        start = 0
        while True:
            k = self._num_steps_at(epoch + start / usable, num_epochs, num_steps)
            if start + k > usable:
                return lengths
            lengths.append(k)
            start += k

    def _num_steps_at(self, progress: float, num_epochs: int, num_steps: int) -> int:
        """Window length at `progress` epochs into the run."""
        if not self.schedule:
            return num_steps
        if self.ramp:
            stage = int(progress / (self.ramp_epochs or num_epochs) * len(self.schedule))
        else:
            stage = int(progress)
        return self.schedule[min(stage, len(self.schedule) - 1)]


def parse_schedule(text: str) -> tuple[tuple[int, ...], bool]:
    """Parses `"1,2,5"` (per epoch) or `"ramp:1,2,5"` into (values, ramp)."""
    ramp = text.startswith(RAMP_PREFIX)
    body = text[len(RAMP_PREFIX) :] if ramp else text
    try:
        values = tuple(int(v) for v in body.split(","))
    except ValueError:
        raise ConfigError(
            f"cannot read truncation schedule {text!r}; write window lengths separated "
            "by commas, e.g. 1,2,5,10,20 (per epoch) or ramp:1,2,5,10,20."
        ) from None
    return values, ramp


# The tutorial's: windows of the config's num_steps, state carried.
TBPTT = Truncation()


@dataclasses.dataclass(frozen=True)
class Mode:
    """A named training mode: a window length and a state handling.

    Attributes:
      truncation: the state handling and window-length schedule.
      num_steps: the window length; None keeps the config's.
    """

    truncation: Truncation = TBPTT
    num_steps: int | None = None

    def apply(self, config: Config) -> Config:
        """The config with this mode's window length."""
        if self.num_steps is None:
            return config
        return dataclasses.replace(config, num_steps=self.num_steps)


MODES = {
    "tbptt": Mode(),
    "stateless_one_step": Mode(Truncation(carry_state=False), num_steps=1),
    "one_step_carry": Mode(num_steps=1),
    "windows_reset": Mode(Truncation(carry_state=False)),
    "tbptt_k5": Mode(num_steps=5),
    "tbptt_k35": Mode(num_steps=35),
    "curriculum": Mode(Truncation(schedule=(1, 2, 5, 10, 20), ramp=True)),
    "curriculum_epoch1": Mode(Truncation(schedule=(1, 2, 5, 10, 20), ramp=True, ramp_epochs=1)),
}


def get_mode(name: str) -> Mode:
    """A named mode of MODES."""
    if name not in MODES:
        raise ConfigError(f"unknown mode {name!r}; choose one of {', '.join(MODES)}.")
    return MODES[name]
