"""TF_CONFIG read without TensorFlow: the workers, this task, and who writes."""

import json
import socket
import threading

from absl.testing import absltest, parameterized

from ptb_rnn.config import ConfigError
from ptb_rnn.training import cluster

TWO_WORKERS = {"worker": ["127.0.0.1:2001", "127.0.0.1:2002"]}


def environ(tasks, task_type, task_index):
    task = {"type": task_type, "index": task_index}
    return {"TF_CONFIG": json.dumps({"cluster": tasks, "task": task})}


class ClusterTest(parameterized.TestCase):
    def test_worker_0_of_two_is_the_chief(self):
        workers = cluster.from_environment(environ(TWO_WORKERS, "worker", 0))
        self.assertEqual(workers.num_workers, 2)
        self.assertTrue(workers.is_chief)

    def test_worker_1_is_not(self):
        self.assertFalse(cluster.from_environment(environ(TWO_WORKERS, "worker", 1)).is_chief)

    def test_a_chief_task_is_the_chief_and_trains_too(self):
        tasks = {"chief": ["127.0.0.1:2000"], **TWO_WORKERS}
        self.assertTrue(cluster.from_environment(environ(tasks, "chief", 0)).is_chief)
        workers = cluster.from_environment(environ(tasks, "worker", 0))
        self.assertFalse(workers.is_chief)
        self.assertEqual(workers.num_workers, 3)

    def test_batch_size_must_split_evenly_over_the_workers(self):
        workers = cluster.from_environment(environ(TWO_WORKERS, "worker", 0))
        workers.check_batch_size(20)
        with self.assertRaisesRegex(ConfigError, "batch_size 21 cannot be split into 2 equal"):
            workers.check_batch_size(21)

    @parameterized.named_parameters(
        ("unset", {}, "needs the TF_CONFIG environment variable"),
        ("empty", {"TF_CONFIG": ""}, "needs the TF_CONFIG environment variable"),
        ("not_json", {"TF_CONFIG": "{"}, "cannot read TF_CONFIG"),
        ("no_task", {"TF_CONFIG": json.dumps({"cluster": TWO_WORKERS})}, "cannot read"),
        ("index_too_large", environ(TWO_WORKERS, "worker", 2), "cannot read"),
        ("negative_index", environ(TWO_WORKERS, "worker", -1), "cannot read"),
        ("index_not_a_number", environ(TWO_WORKERS, "worker", "0"), "cannot read"),
        ("parameter_server", environ({"ps": ["h:1"], **TWO_WORKERS}, "ps", 0), "cannot read"),
        ("two_chiefs", environ({"chief": ["h:1", "h:2"]}, "chief", 0), "cannot read"),
        ("address_not_a_string", environ({"worker": [2001]}, "worker", 0), "cannot read"),
        (
            "port_too_large",
            environ({"worker": ["127.0.0.1:99999"]}, "worker", 0),
            "names the address '127.0.0.1:99999': it must be host:port with a port in 1-65535",
        ),
        ("port_zero", environ({"worker": ["h:0"]}, "worker", 0), "'h:0': it must be host:port"),
        ("no_port", environ({"worker": ["h"]}, "worker", 0), "'h': it must be host:port"),
        ("no_host", environ({"worker": [":2001"]}, "worker", 0), "':2001': it must be"),
        (
            "one_address_twice",
            environ({"worker": ["h:1", "h:1"]}, "worker", 0),
            "names h:1 for two tasks; give each task its own host:port",
        ),
    )
    def test_bad_tf_config(self, env, message):
        with self.assertRaisesRegex(ConfigError, message):
            cluster.from_environment(env)


def free_port() -> int:
    """A port nothing listens on now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_workers(ports=None, other_cluster=None):
    """Worker 0 and worker 1 of a cluster on two free ports of 127.0.0.1 (worker 1 with
    other_cluster's addresses added to its TF_CONFIG, if given)."""
    tasks = {"worker": [f"127.0.0.1:{port}" for port in ports or (free_port(), free_port())]}
    first = cluster.from_environment(environ(tasks, "worker", 0))
    second = cluster.from_environment(environ(other_cluster or tasks, "worker", 1))
    return first, second


def in_thread(fn, *args):
    """Runs fn(*args) in a thread; returns the thread and a list that receives what it
    returned or raised."""
    outcome = []

    def target():
        try:
            outcome.append(fn(*args))
        except Exception as e:  # noqa: BLE001 - the test looks at it
            outcome.append(e)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


class RendezvousTest(absltest.TestCase):
    def test_two_workers_meet_and_free_their_ports(self):
        first, second = two_workers()
        thread, outcome = in_thread(cluster.rendezvous, second, 60)
        cluster.rendezvous(first, 60)
        thread.join()
        self.assertEqual(outcome, [None])
        for workers in (first, second):  # TensorFlow's server can listen there now
            socket.create_server(("", cluster.host_and_port(workers.address)[1])).close()

    def test_a_worker_that_never_starts_is_named_after_the_timeout(self):
        first, second = two_workers()
        with self.assertRaisesRegex(
            cluster.WorkersMissing,
            rf"^worker 1 \({second.address}\) did not start within 0.5 s; start every worker",
        ):
            cluster.rendezvous(first, 0.5)

    def test_a_server_that_does_not_greet_is_not_taken_for_a_worker(self):
        first, second = two_workers()
        with socket.create_server(("", cluster.host_and_port(second.address)[1])):
            with self.assertRaisesRegex(cluster.WorkersMissing, "worker 1 .* did not start"):
                cluster.rendezvous(first, 0.5)

    def test_a_taken_port_is_named(self):
        first, _ = two_workers()
        with socket.create_server(("", cluster.host_and_port(first.address)[1])):
            with self.assertRaisesRegex(
                ConfigError,
                rf"^cannot listen on {first.address}, this task's address in TF_CONFIG: "
                "Address already in use",
            ):
                cluster.rendezvous(first, 60)

    def test_workers_with_different_clusters_both_refuse(self):
        first, _ = two_workers()
        third = f"127.0.0.1:{free_port()}"
        _, second = two_workers(
            [cluster.host_and_port(a)[1] for a in first.tasks["worker"]],
            {"worker": [*first.tasks["worker"], third]},
        )
        thread, outcome = in_thread(cluster.rendezvous, second, 60)
        with self.assertRaisesRegex(ConfigError, "^worker 1 .* has another cluster in its"):
            cluster.rendezvous(first, 60)
        thread.join()
        self.assertIsInstance(outcome[0], ConfigError)
        self.assertRegex(str(outcome[0]), "^worker 0 .* has another cluster in its TF_CONFIG")

    def test_a_stop_request_ends_the_wait(self):
        first, _ = two_workers()
        with self.assertRaises(cluster.StopRequested):
            cluster.rendezvous(first, 60, should_stop=lambda: True)


if __name__ == "__main__":
    absltest.main()
