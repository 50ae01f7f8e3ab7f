import json
import os
import stat

from absl.testing import absltest

from ptb_rnn import files
from ptb_rnn.config import ConfigError

IDENTITY = {
    "config": {"num_steps": 20, "hidden_size": 200},
    "truncation": {"carry_state": True},
    "seed": 0,
    "corpus_sha256": "abc",
}


class AtomicWriteTest(absltest.TestCase):
    def test_writes_json_readable_by_all_like_any_other_file(self):
        path = os.path.join(self.create_tempdir().full_path, "results.json")
        old_umask = os.umask(0o022)
        try:
            files.write_json(path, {"a": [1, 2]})
        finally:
            os.umask(old_umask)
        self.assertEqual(files.read_json(path), {"a": [1, 2]})
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644)

    def test_a_failed_write_leaves_the_old_file_and_no_temporary(self):
        directory = self.create_tempdir().full_path
        path = os.path.join(directory, "results.json")
        files.write_json(path, {"old": True})
        with self.assertRaises(TypeError):
            files.write_json(path, {"not json": object()})
        self.assertEqual(files.read_json(path), {"old": True})
        self.assertEqual(os.listdir(directory), ["results.json"])

    def test_the_temporary_name_keeps_the_extension(self):
        path = os.path.join(self.create_tempdir().full_path, "model.weights.h5")
        with files.atomic_path(path) as temporary:
            self.assertTrue(temporary.endswith("-model.weights.h5"))
            with open(temporary, "w") as f:
                f.write("weights")
        with open(path) as f:
            self.assertEqual(f.read(), "weights")


class SameRunTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path
        files.write_identity(self.workdir, IDENTITY)

    def test_the_same_identity_passes(self):
        files.check_same_run(self.workdir, json.loads(json.dumps(IDENTITY)))

    def test_differences_are_named(self):
        other = {**IDENTITY, "config": {"num_steps": 35, "hidden_size": 200}, "seed": 1}
        with self.assertRaisesWithLiteralMatch(
            ConfigError,
            f"{self.workdir} holds checkpoints of a different run (num_steps 20 there, 35 "
            "here, seed 0 there, 1 here); pass --restart to start over there, or choose "
            "another --workdir.",
        ):
            files.check_same_run(self.workdir, other)

    def test_checkpoints_without_an_identity_are_refused(self):
        os.remove(os.path.join(self.workdir, files.CHECKPOINT_DIR, files.RUN_FILE))
        with self.assertRaisesRegex(ConfigError, "no run.json to say which run they belong to"):
            files.check_same_run(self.workdir, IDENTITY)


class StartOverTest(absltest.TestCase):
    def test_deletes_what_a_run_wrote_and_nothing_else(self):
        workdir = self.create_tempdir().full_path
        for name in (files.RESULTS_FILE, files.WEIGHTS_FILE, "notes.txt"):
            files.write_text(os.path.join(workdir, name), "x")
        files.write_identity(workdir, IDENTITY)
        os.makedirs(os.path.join(workdir, files.SUMMARY_DIR))
        files.start_over(workdir)
        self.assertEqual(os.listdir(workdir), ["notes.txt"])


if __name__ == "__main__":
    absltest.main()
