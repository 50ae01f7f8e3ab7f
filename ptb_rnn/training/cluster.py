"""What TF_CONFIG says about a multi-worker run: the workers, and which one this is.

`--strategy=multi_worker` reads the cluster from the TF_CONFIG environment variable, as
TensorFlow documents it; every worker runs the same command with its own TF_CONFIG:

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}'

Worker 0 is the chief (or the task of type "chief", when the cluster names one): it
alone writes in the work directory (checkpoints, summaries, results.json, the model).

Before TensorFlow starts, `rendezvous` meets the other workers: TensorFlow's collective
runtime waits for them in C++, silently, deaf to signals and with no time limit, so every
worker first listens on its own address (refused, exit 2, if something else holds it),
greets every other worker there with its TF_CONFIG and waits until each has answered
with the same cluster and greeted it back. It logs for whom it waits, stops on request
(SIGINT, SIGTERM) and gives up after a timeout; then it frees its port for TensorFlow.

This module does not import TensorFlow: a malformed TF_CONFIG is found before it starts.
"""

import contextlib
import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Callable

from absl import logging

from ptb_rnn import spec
from ptb_rnn.config import ConfigError

TF_CONFIG = "TF_CONFIG"
TASK_TYPES = ("chief", "worker")

# How often a waiting worker knocks at the others' addresses, and says for whom it waits.
KNOCK_SECONDS = 0.2
LOG_SECONDS = 30

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

    @property
    def address(self) -> str:
        """This task's "host:port"."""
        return self.tasks[self.task_type][self.task_index]

    def name(self, task_type: str, task_index: int) -> str:
        """A task as the messages name it, e.g. "worker 1 (127.0.0.1:2002)"."""
        return f"{task_type} {task_index} ({self.tasks[task_type][task_index]})"

    @property
    def peers(self) -> list[tuple[str, int]]:
        """The other tasks, as (type, index)."""
        return [
            (task_type, index)
            for task_type in TASK_TYPES
            for index in range(len(self.tasks.get(task_type, [])))
            if (task_type, index) != (self.task_type, self.task_index)
        ]

    def check_batch_size(self, batch_size: int) -> None:
        """Raises ConfigError unless every worker can own the same number of rows (one
        replica per worker without GPUs; the trainer checks the replicas with them)."""
        spec.check_rows_per_replica(batch_size, self.num_workers, "worker")


def from_environment(environ=os.environ) -> Cluster:
    """The cluster TF_CONFIG describes.

    Raises:
      ConfigError: TF_CONFIG is unset, is not JSON, does not name this task among the
        cluster's workers, names an address that is not host:port with a port in
        1-65535, or names one address twice.
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
    addresses = [address for group in tasks.values() for address in group]
    for address in addresses:
        host_and_port(address)
    for address in addresses:
        if addresses.count(address) > 1:
            raise ConfigError(
                f"{TF_CONFIG} names {address} for two tasks; give each task its own "
                "host:port, on every worker."
            )
    return Cluster(tasks, task_type, task_index)


def host_and_port(address: str) -> tuple[str, int]:
    """("host", port) of "host:port".

    Raises:
      ConfigError: address has no host, or no port in 1-65535.
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(
            f"{TF_CONFIG} names the address {address!r}: it must be host:port with a port "
            "in 1-65535; fix it on every worker."
        )
    return host.strip("[]"), int(port)


class StopRequested(Exception):
    """`rendezvous` was asked to stop before the workers met."""


class WorkersMissing(Exception):
    """Not every worker came within the timeout; the message names those missing."""


def rendezvous(
    cluster: Cluster, timeout: float, should_stop: Callable[[], bool] = lambda: False
) -> None:
    """Returns once every task of the cluster is listening and has the same cluster.

    This task listens on its own address (answering each greeting with its own) while it
    greets every other task at theirs; it is done when each has answered with the same
    cluster and has greeted it back (then each of them knows about this one too). Its
    port is free again when this returns, for TensorFlow's server.

    Args:
      cluster: from `from_environment`, this task's and every worker's.
      timeout: seconds to wait for the others.
      should_stop: called between knocks; True ends the wait (e.g. after SIGINT).

    Raises:
      ConfigError: this task's port is taken, or another task has another cluster in
        its TF_CONFIG.
      WorkersMissing: some task did not come within timeout seconds.
      StopRequested: should_stop said so.
    """
    greeting = json.dumps(
        {"cluster": cluster.tasks, "task": [cluster.task_type, cluster.task_index]}
    )
    listener = _listen(cluster)
    greeted_by: set[tuple[str, int]] = set()
    errors: list[str] = []

    def check(text: str, expected: tuple[str, int] | None) -> tuple[str, int] | None:
        """The peer a greeting comes from if it has this cluster; None if the text is no
        greeting (not yet: nothing, or another server) or names another cluster (noted)."""
        try:
            other = json.loads(text)
            task = (other["task"][0], other["task"][1])
            other_cluster = other["cluster"]
        except (ValueError, TypeError, KeyError, IndexError):
            return None
        if other_cluster == cluster.tasks and task in cluster.peers and expected in (None, task):
            return task
        who = cluster.name(*expected) if expected else f"{task[0]} {task[1]}"
        if not expected:
            with contextlib.suppress(TypeError, KeyError, IndexError):
                who += f" ({other_cluster[task[0]][task[1]]})"
        errors.append(
            f"{who} has another cluster in its {TF_CONFIG} ({text.strip()[:300]} there, "
            f"{greeting} here); give every worker the same cluster, each its own index."
        )
        return None

    def answer_greetings():
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:  # no knock within the listener's timeout
                continue
            with connection:
                connection.settimeout(5)
                try:
                    text = _read_line(connection)
                    connection.sendall(greeting.encode() + b"\n")
                except OSError:
                    continue
            task = check(text, None)
            if task is not None:
                greeted_by.add(task)

    done = threading.Event()
    listener.settimeout(KNOCK_SECONDS)
    thread = threading.Thread(target=answer_greetings, daemon=True)
    thread.start()
    answered: set[tuple[str, int]] = set()
    start = time.monotonic()
    logged = None
    try:
        while True:
            for peer in cluster.peers:
                if peer not in answered:
                    text = _greet(cluster.tasks[peer[0]][peer[1]], greeting)
                    if text is not None and check(text, peer) is not None:
                        answered.add(peer)
            if errors:
                raise ConfigError(errors[0])
            missing = [p for p in cluster.peers if p not in answered or p not in greeted_by]
            if not missing:
                return
            waited = time.monotonic() - start
            if waited >= timeout:
                raise WorkersMissing(
                    f"{_names(cluster, missing)} did not start within {timeout:g} s; start "
                    "every worker of the cluster with the same command, or allow them more "
                    "time with --cluster_timeout."
                )
            if logged is None or time.monotonic() - logged >= LOG_SECONDS:
                logging.info(
                    "Waiting for %s to start (%.0f of %g s).",
                    _names(cluster, missing),
                    waited,
                    timeout,
                )
                logged = time.monotonic()
            if should_stop():
                raise StopRequested()
            time.sleep(KNOCK_SECONDS)
    finally:
        done.set()
        thread.join()
        listener.close()


def _names(cluster: Cluster, tasks: list[tuple[str, int]]) -> str:
    return ", ".join(cluster.name(*task) for task in tasks)


def _listen(cluster: Cluster) -> socket.socket:
    """A socket listening on this task's port, on every interface (as TensorFlow's)."""
    _, port = host_and_port(cluster.address)
    try:
        return socket.create_server(("", port))
    except OSError as e:
        raise ConfigError(
            f"cannot listen on {cluster.address}, this task's address in {TF_CONFIG}: "
            f"{os.strerror(e.errno) if e.errno else e} (another process holds the port, or "
            "another worker was started with the same index); stop it, or give this task "
            "another address on every worker."
        ) from None


def _greet(address: str, greeting: str) -> str | None:
    """The greeting the task at address answers with; None if nothing answers yet."""
    host, port = host_and_port(address)
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.settimeout(5)
            connection.sendall(greeting.encode() + b"\n")
            return _read_line(connection)
    except OSError:
        return None


def _read_line(connection: socket.socket) -> str:
    """One line from connection (at most 64 KiB)."""
    data = b""
    while not data.endswith(b"\n") and len(data) < 65536:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")
