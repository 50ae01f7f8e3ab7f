"""Data-parallel training gives the one-device numbers: two replicas on two logical CPUs
(in a fresh process, replicas_job.py), and two worker processes on 127.0.0.1."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import helpers
import numpy as np
from absl.testing import absltest, parameterized

JOB = os.path.join(helpers.ROOT, "tests", "replicas_job.py")
TOLERANCE = 1e-5  # relative: float32 sums over the rows in another order


def relative_difference(a, b) -> float:
    """‖a − b‖ / ‖b‖."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@absltest.skipUnless(helpers.HAVE_PTB, "needs the PTB files (PTB_DIR)")
class MirroredTest(absltest.TestCase):
    """The test config (no dropout) on real PTB, 20 windows on one device and on two."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp()
        output = os.path.join(cls.directory, "output.json")
        completed = subprocess.run(
            [sys.executable, JOB, "test", output, cls.directory],
            capture_output=True,
            text=True,
            cwd=helpers.ROOT,
            env={**os.environ, "PTB_DIR": helpers.PTB_DIR},
            timeout=600,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        with open(output) as f:
            cls.output = json.load(f)
        cls.one_device, cls.two_replicas = cls.output["one_device"], cls.output["two_replicas"]

    def test_every_window_has_the_one_device_loss(self):
        losses = np.array(self.two_replicas["losses"])
        expected = np.array(self.one_device["losses"])
        self.assertLen(losses, 20)
        np.testing.assert_allclose(losses, expected, rtol=TOLERANCE)

    def test_the_weights_end_as_on_one_device(self):
        for weights, expected in zip(self.two_replicas["weights"], self.one_device["weights"]):
            self.assertLess(relative_difference(weights, expected), TOLERANCE)

    def test_each_row_carries_its_one_device_state(self):
        for state, expected in zip(self.two_replicas["state"], self.one_device["state"]):
            self.assertEqual(np.shape(state), (20, 2))  # the whole batch, gathered
            for row, expected_row in zip(state, expected):
                self.assertLess(relative_difference(row, expected_row), TOLERANCE)

    def test_a_two_replica_checkpoint_resumes_on_one_device(self):
        resumed = self.output["two_replicas_to_one_device"]
        np.testing.assert_allclose(resumed, self.two_replicas["next_losses"], rtol=TOLERANCE)
        np.testing.assert_allclose(resumed, self.one_device["next_losses"], rtol=TOLERANCE)

    def test_a_one_device_checkpoint_resumes_on_two_replicas(self):
        resumed = self.output["one_device_to_two_replicas"]
        np.testing.assert_allclose(resumed, self.one_device["next_losses"], rtol=TOLERANCE)

    def test_replicas_draw_different_dropout_masks(self):
        first, second = (np.array(m) == 0 for m in self.output["dropout_masks"])
        self.assertEqual(first.shape, (10, 20, 50))  # each replica's 10 rows
        # keep_prob 0.5: each mask drops about half; independent masks disagree about half.
        self.assertBetween(first.mean(), 0.4, 0.6)
        self.assertBetween(second.mean(), 0.4, 0.6)
        self.assertBetween((first != second).mean(), 0.4, 0.6)


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (the system picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cut_ptb(directory: str) -> str:
    """The first lines of each PTB split: 1500 of train (about 33,000 words: 80 windows
    of the test config), 100 of valid and 50 of test."""
    for split, lines in (("train", 1500), ("valid", 100), ("test", 50)):
        name = f"ptb.{split}.txt"
        with open(os.path.join(helpers.PTB_DIR, name)) as f:
            text = "".join(f.readlines()[:lines])
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)
    return directory


@absltest.skipUnless(helpers.HAVE_PTB, "needs the PTB files (PTB_DIR)")
class MultiWorkerTest(absltest.TestCase):
    """Two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy): one killed, both
    started again, and the run ends with the one-device numbers."""

    def setUp(self):
        self.directory = self.create_tempdir().full_path
        self.corpus = cut_ptb(self.directory)
        self.processes = []
        self.flags_of = {}

    def tearDown(self):
        for process in self.processes:  # always reaped, whatever happened
            if process.poll() is None:
                process.kill()
            process.wait()

    def command(self, workdir):
        return [
            sys.executable,
            "-m",
            "ptb_rnn.train",
            "--config=test",
            f"--data_path={self.corpus}",
            f"--workdir={workdir}",
            "--max_max_epoch=1",
            "--checkpoint_every_steps=20",
        ]

    def start_workers(self, workdir, ports, attempt, flags_of=None, started=None):
        """Starts the workers of a cluster on ports (those of `started`, default all), each
        with the command's flags and those flags_of gives for its index."""
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        workers = []
        for index in started or range(len(ports)):
            tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            log = open(self.log_path(index, attempt), "w")
            extra = (flags_of or {}).get(index, [])
            workers.append(
                subprocess.Popen(
                    [*self.command(workdir), "--strategy=multi_worker", *extra],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    cwd=helpers.ROOT,
                    env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                )
            )
            log.close()
        self.processes += workers
        return workers

    def log_path(self, index, attempt):
        return os.path.join(self.directory, f"worker{index}-attempt{attempt}.log")

    def log_of(self, index, attempt):
        with open(self.log_path(index, attempt)) as f:
            return f.read()

    def test_a_killed_worker_stops_the_run_and_the_same_commands_finish_it(self):
        reference = os.path.join(self.directory, "one_device")
        completed = subprocess.run(
            self.command(reference), capture_output=True, text=True, cwd=helpers.ROOT, timeout=300
        )
        self.assertEqual(completed.returncode, 0, completed.stderr[-2000:])
        workdir = os.path.join(self.directory, "two_workers")
        ports = free_ports(2)
        chief, worker = self.start_workers(workdir, ports, attempt=1)
        # The checkpoint manager's state file: written with the first checkpoint and kept,
        # while ckpt-1 itself is deleted two checkpoints later (a fraction of a second).
        checkpoint = os.path.join(workdir, "checkpoints", "checkpoint")
        deadline = time.time() + 300
        while not os.path.exists(checkpoint) and time.time() < deadline and chief.poll() is None:
            time.sleep(0.1)
        self.assertTrue(os.path.exists(checkpoint), self.log_of(0, 1)[-2000:])
        worker.send_signal(signal.SIGKILL)
        self.assertEqual(chief.wait(timeout=300), 75, self.log_of(0, 1)[-2000:])
        last_line = self.log_of(0, 1).strip().splitlines()[-1]
        self.assertStartsWith(last_line, "error: lost another worker (")
        self.assertEndsWith(
            last_line,
            "start every worker again with the same command to resume from the latest checkpoint.",
        )

        chief, worker = self.start_workers(workdir, ports, attempt=2)
        self.assertEqual(chief.wait(timeout=300), 0, self.log_of(0, 2)[-2000:])
        self.assertEqual(worker.wait(timeout=60), 0, self.log_of(1, 2)[-2000:])
        self.assertIn("Resuming from", self.log_of(1, 2))
        with open(os.path.join(reference, "results.json")) as f:
            expected = json.load(f)
        with open(os.path.join(workdir, "results.json")) as f:
            results = json.load(f)
        for key in ("train_perplexity", "valid_perplexity_training_layout", "test_perplexity"):
            np.testing.assert_allclose(results[key], expected[key], rtol=TOLERANCE)
        self.assertEqual(results["machine"]["strategy"], "multi_worker")
        self.assertEqual(results["machine"]["replicas"], 2)

    def assert_both_refuse(self, workdir, expected_by_worker):
        """Both workers end with exit code 2 and the line expected of each, and the
        work directory was not even created."""
        workers = self.start_workers(workdir, free_ports(2), 1, self.flags_of)
        for index, worker in enumerate(workers):
            self.assertEqual(worker.wait(timeout=300), 2, self.log_of(index, 1)[-2000:])
        for index, expected in expected_by_worker.items():
            self.assertRegex(self.log_of(index, 1).strip().splitlines()[-1], expected)
        self.assertFalse(os.path.exists(workdir))

    def test_workers_with_another_learning_rate_refuse_to_start(self):
        self.flags_of = {1: ["--learning_rate=0.1"]}
        self.assert_both_refuse(
            os.path.join(self.directory, "run"),
            {
                0: r"^error: worker 1 \(127.0.0.1:\d+\) has another run than this worker 0 "
                r"\(127.0.0.1:\d+\) \(learning_rate 0.1 there, 1.0 here\); start every worker "
                r"with the same flags and the same corpus.$",
                1: r"^error: worker 0 .* \(learning_rate 1.0 there, 0.1 here\); start every",
            },
        )

    def test_workers_with_another_corpus_refuse_to_start(self):
        reversed_corpus = os.path.join(self.directory, "reversed")
        os.makedirs(reversed_corpus)
        for name in ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"):
            with open(os.path.join(self.corpus, name)) as f:
                lines = f.readlines()
            with open(os.path.join(reversed_corpus, name), "w") as f:
                f.writelines(reversed(lines))  # the same words, the same vocabulary
        self.flags_of = {1: [f"--data_path={reversed_corpus}"]}
        self.assert_both_refuse(
            os.path.join(self.directory, "run"),
            {
                0: r"^error: worker 1 .* has another run than this worker 0 .* \(another "
                r"corpus\); start every worker with the same flags and the same corpus.$",
                1: r"^error: worker 0 .* \(another corpus\); start every worker",
            },
        )


class StartUpTest(parameterized.TestCase):
    """A multi-worker run whose other workers do not come: it says for whom it waits,
    stops on a signal, and gives up after --cluster_timeout."""

    def setUp(self):
        directory = self.create_tempdir().full_path
        self.corpus = helpers.random_corpus(os.path.join(directory, "corpus"), 80, 20, 30)
        self.workdir = os.path.join(directory, "run")
        self.ports = free_ports(2)

    def start_chief(self, *flags):
        cluster = {"worker": [f"127.0.0.1:{port}" for port in self.ports]}
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": 0}}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ptb_rnn.train",
                "--config=test",
                "--vocab_size=31",
                f"--data_path={self.corpus}",
                f"--workdir={self.workdir}",
                "--strategy=multi_worker",
                *flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=helpers.ROOT,
            env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
        )
        self.addCleanup(process.wait)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        return process

    def test_a_lone_worker_says_for_whom_it_waits_and_gives_up(self):
        chief = self.start_chief("--cluster_timeout=3")
        output, _ = chief.communicate(timeout=120)
        self.assertEqual(chief.returncode, 75, output)
        waiting = f"Waiting for worker 1 (127.0.0.1:{self.ports[1]}) to start (0 of 3 s)."
        self.assertIn(waiting, output)
        self.assertEqual(
            output.strip().splitlines()[-1],
            f"error: worker 1 (127.0.0.1:{self.ports[1]}) did not start within 3 s; start "
            "every worker of the cluster with the same command, or allow them more time "
            "with --cluster_timeout.",
        )
        self.assertFalse(os.path.exists(self.workdir))

    @parameterized.named_parameters(("sigint", signal.SIGINT), ("sigterm", signal.SIGTERM))
    def test_a_waiting_worker_stops_on_a_signal(self, signum):
        chief = self.start_chief()
        for line in chief.stdout:  # until it waits
            if "Waiting for worker 1" in line:
                break
        chief.send_signal(signum)
        rest = chief.stdout.read()
        self.assertEqual(chief.wait(timeout=15), 128 + signum, rest)
        self.assertEqual(
            rest.strip().splitlines()[-1],
            f"{signum.name}: stopped while waiting for the other workers; nothing was "
            "trained or written.",
        )
        self.assertFalse(os.path.exists(self.workdir))

    def test_a_taken_port_is_bad_input(self):
        with socket.create_server(("", self.ports[0])):
            chief = self.start_chief()
            output, _ = chief.communicate(timeout=120)
        self.assertEqual(chief.returncode, 2, output)
        self.assertEqual(
            output.strip().splitlines()[-1],
            f"error: cannot listen on 127.0.0.1:{self.ports[0]}, this task's address in "
            "TF_CONFIG: Address already in use (another process holds the port, or another "
            "worker was started with the same index); stop it, or give this task another "
            "address on every worker.",
        )


if __name__ == "__main__":
    absltest.main()
