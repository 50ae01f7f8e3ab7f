"""What TF_CONFIG says about a multi-worker run: the workers, and which one this is.

`--strategy=multi_worker` reads the cluster from the TF_CONFIG environment variable, as
TensorFlow documents it; every worker runs the same command with its own TF_CONFIG:

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}'

Worker 0 is the chief (or the task of type "chief", when the cluster names one): it
alone writes in the work directory (checkpoints, summaries, results.json, the model).

This module does not import TensorFlow: a malformed TF_CONFIG is found before it starts.
"""

import dataclasses
import json
import os

from ptb_rnn import spec
from ptb_rnn.config import ConfigError

TF_CONFIG = "TF_CONFIG"
TASK_TYPES = ("chief", "worker")

_EXAMPLE = (
    'e.g. {"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The tasks of a multi-worker run and this process's place among them.

    Attributes:
      tasks: addresses ("host:port") by task type, e.g. {"worker": ["h1:1", "h2:1"]}.
      task_type: this process's type, "chief" or "worker".
      task_index: this process's index among the tasks of its type.
    """

    tasks: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def num_workers(self) -> int:
        """Processes that train (the chief, if any, trains too)."""
        return sum(len(self.tasks.get(t, [])) for t in TASK_TYPES)

    @property
    def is_chief(self) -> bool:
        """Whether this process writes: the chief, or worker 0 when there is none."""
        if "chief" in self.tasks:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    def check_batch_size(self, batch_size: int) -> None:
        """Raises ConfigError unless every worker can own the same number of rows (one
        replica per worker without GPUs; the trainer checks the replicas with them)."""
        spec.check_rows_per_replica(batch_size, self.num_workers, "worker")


def from_environment(environ=os.environ) -> Cluster:
    """The cluster TF_CONFIG describes.

    Raises:
      ConfigError: TF_CONFIG is unset, is not JSON, or does not name this task among
        the cluster's workers.
    """
    text = environ.get(TF_CONFIG)
    if not text:
        raise ConfigError(
            f"--strategy=multi_worker needs the {TF_CONFIG} environment variable, which "
            f"lists the workers and says which one this is ({_EXAMPLE}); set it on every "
            "worker, or pass --strategy=one_device."
        )
    try:
        value = json.loads(text)
        tasks = value["cluster"]
        task_type, task_index = value["task"]["type"], value["task"]["index"]
        valid = (
            isinstance(tasks, dict)
            and all(
                isinstance(a, list) and all(isinstance(h, str) for h in a) for a in tasks.values()
            )
            and task_type in TASK_TYPES
            and isinstance(task_index, int)
            and 0 <= task_index < len(tasks.get(task_type, []))
            and set(tasks) <= set(TASK_TYPES)
            and len(tasks.get("chief", [])) <= 1
        )
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise ConfigError(
            f"cannot read {TF_CONFIG}={text!r}: it must be JSON naming the cluster's "
            f"chief and worker addresses and this task's type (chief or worker) and index "
            f"among them ({_EXAMPLE}); fix it on this worker."
        )
    return Cluster(tasks, task_type, task_index)
