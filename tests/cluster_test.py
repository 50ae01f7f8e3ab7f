"""TF_CONFIG read without TensorFlow: the workers, this task, and who writes."""

import json

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
    )
    def test_bad_tf_config(self, env, message):
        with self.assertRaisesRegex(ConfigError, message):
            cluster.from_environment(env)


if __name__ == "__main__":
    absltest.main()
