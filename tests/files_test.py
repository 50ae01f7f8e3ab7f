import json
import os
import shutil
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
        files.write_text(os.path.join(self.workdir, files.CHECKPOINT_DIR, "ckpt-1.index"), "")
        with self.assertRaisesRegex(
            files.WorkdirError, "holds checkpoints of a different run \\(it records no identity"
        ):
            files.check_same_run(self.workdir, IDENTITY)

    def test_results_of_another_run_are_refused_without_checkpoints(self):
        shutil.rmtree(os.path.join(self.workdir, files.CHECKPOINT_DIR))
        files.write_json(
            os.path.join(self.workdir, files.RESULTS_FILE), {"identity": {**IDENTITY, "seed": 2}}
        )
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"{self.workdir} holds the results.json of a different run (seed 2 there, 0 "
            "here); pass --restart to start over there, or choose another --workdir.",
        ):
            files.check_same_run(self.workdir, IDENTITY)

    def test_results_without_an_identity_are_refused(self):
        files.write_json(os.path.join(self.workdir, files.RESULTS_FILE), {"test_perplexity": 1})
        with self.assertRaisesRegex(files.WorkdirError, "results.json of a different run"):
            files.check_same_run(self.workdir, IDENTITY)

    def test_results_of_the_same_run_pass(self):
        files.write_json(os.path.join(self.workdir, files.RESULTS_FILE), {"identity": IDENTITY})
        files.check_same_run(self.workdir, IDENTITY)

    def test_a_truncated_run_json_is_named(self):
        path = os.path.join(self.workdir, files.CHECKPOINT_DIR, files.RUN_FILE)
        with open(path, "r+") as f:
            f.truncate(10)
        with self.assertRaisesRegex(
            files.WorkdirError, f"^{path} is damaged \\(.*\\); pass --restart to start over"
        ):
            files.check_same_run(self.workdir, IDENTITY)


class RunLengthTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path
        files.write_identity(self.workdir, IDENTITY)
        files.write_text(os.path.join(self.workdir, files.CHECKPOINT_DIR, "ckpt-1.index"), "")
        results = {"identity": IDENTITY, "train_perplexity": [300.0, 200.0]}  # 2 epochs
        files.write_json(os.path.join(self.workdir, files.RESULTS_FILE), results)

    def test_the_same_length_and_a_longer_one_pass(self):
        files.check_run_length(self.workdir, 2)
        files.check_run_length(self.workdir, 3)

    def test_a_workdir_with_no_results_passes(self):
        files.check_run_length(self.create_tempdir().full_path, 1)

    def test_a_shorter_run_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"{self.workdir} holds a finished run of 2 epochs, more than max_max_epoch 1; pass "
            "--max_max_epoch=2 to keep it (or more to extend it), --restart to start over "
            "there, or choose another --workdir.",
        ):
            files.check_run_length(self.workdir, 1)

    def test_a_longer_run_without_checkpoints_is_refused(self):
        os.remove(os.path.join(self.workdir, files.CHECKPOINT_DIR, "ckpt-1.index"))
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"{self.workdir} holds a finished run of 2 epochs and no checkpoints to extend it "
            "to 3 from; pass --max_max_epoch=2 to keep it, --restart to start over there, or "
            "choose another --workdir.",
        ):
            files.check_run_length(self.workdir, 3)


class LockTest(absltest.TestCase):
    def test_a_second_holder_is_refused_and_the_lock_is_released_after(self):
        workdir = self.create_tempdir().full_path
        with files.locked(workdir):
            # flock locks belong to an open file: a second open is a second holder.
            with self.assertRaisesWithLiteralMatch(
                files.WorkdirError,
                f"{workdir} is in use by another run (process {os.getpid()}); wait for it "
                "to end, or choose another --workdir.",
            ):
                with files.locked(workdir):
                    pass
        with files.locked(workdir):
            pass


class CheckWorkdirTest(absltest.TestCase):
    def test_an_empty_workdir_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError, "--workdir is empty; give a directory, e.g. --workdir=runs/small."
        ):
            files.check_workdir("")

    def test_a_directory_where_nothing_can_be_created_is_refused(self):
        # os.access says root may write here; creating a file says otherwise.
        with self.assertRaisesRegex(
            files.WorkdirError, "^cannot use --workdir=/proc/run: nothing can be written in /proc"
        ):
            files.check_workdir("/proc/run")

    def test_checkpoints_as_a_file_is_refused(self):
        workdir = self.create_tempdir().full_path
        files.write_text(os.path.join(workdir, files.CHECKPOINT_DIR), "")
        with self.assertRaisesRegex(files.WorkdirError, "checkpoints is a file where the run"):
            files.check_workdir(workdir)

    def test_a_failed_write_is_a_workdir_error_and_leaves_nothing(self):
        directory = self.create_tempdir().full_path
        files.write_text(os.path.join(directory, "a_file"), "")
        with self.assertRaisesRegex(files.WorkdirError, "^cannot write .*a_file/results.json"):
            files.write_json(os.path.join(directory, "a_file", "results.json"), {})
        self.assertEqual(os.listdir(directory), ["a_file"])


class StartOverTest(absltest.TestCase):
    def test_deletes_what_a_run_wrote_and_nothing_else(self):
        workdir = self.create_tempdir().full_path
        for name in (files.RESULTS_FILE, files.WEIGHTS_FILE, files.LOCK_FILE, "notes.txt"):
            files.write_text(os.path.join(workdir, name), "x")
        files.write_identity(workdir, IDENTITY)
        os.makedirs(os.path.join(workdir, files.SUMMARY_DIR))
        files.start_over(workdir)
        self.assertCountEqual(os.listdir(workdir), [files.LOCK_FILE, "notes.txt"])


if __name__ == "__main__":
    absltest.main()
