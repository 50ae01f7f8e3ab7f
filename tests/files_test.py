import json
import os
import shutil
import stat
import subprocess
import sys
import threading

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


class WhatAPathNamesTest(absltest.TestCase):
    def test_a_symlink_stays_and_its_target_is_written(self):
        directory = self.create_tempdir().full_path
        target, link = os.path.join(directory, "target.json"), os.path.join(directory, "link")
        files.write_text(target, "old")
        os.symlink("target.json", link)
        files.write_text(link, "new")
        self.assertTrue(os.path.islink(link))
        with open(target) as f:
            self.assertEqual(f.read(), "new")
        self.assertCountEqual(os.listdir(directory), ["target.json", "link"])

    def test_a_device_is_written_in_place(self):
        with files.atomic_path(os.devnull) as path:
            self.assertEqual(path, os.devnull)
        files.write_text(os.devnull, "gone")
        self.assertTrue(stat.S_ISCHR(os.stat(os.devnull).st_mode))

    def test_a_fifo_is_written_in_place(self):
        fifo = os.path.join(self.create_tempdir().full_path, "pipe")
        os.mkfifo(fifo)
        received = []

        def read():
            with open(fifo) as f:
                received.append(f.read())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        files.write_text(fifo, "through the pipe")
        reader.join(timeout=10)
        self.assertEqual(received, ["through the pipe"])
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))


class CheckOutputTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        self.text = os.path.join(self.directory, "my.txt")
        files.write_text(self.text, "a b\n")

    def check(self, path, **kwargs):
        files.check_output(path, "--out", "out.jsonl", **kwargs)

    def test_an_empty_name_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError, "--out is empty; give a file name, e.g. --out=out.jsonl."
        ):
            self.check("")

    def test_a_directory_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"--out={self.directory} is a directory; give a file name, e.g. "
            f"--out={self.directory}/out.jsonl.",
        ):
            self.check(self.directory)

    def test_a_name_without_the_suffix_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            "--out=fig.txt does not end in .png; give a .png file name, e.g. --out=out.jsonl.",
        ):
            self.check("fig.txt", suffix=".png")

    def test_an_input_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"--out={self.text} is the file --text_file reads ({self.text}); writing it "
            "would destroy it, give another --out.",
        ):
            self.check(self.text, inputs=[("--text_file", self.text)])

    def test_an_input_under_another_name_is_refused(self):
        link = os.path.join(self.directory, "link.txt")
        os.symlink(self.text, link)
        with self.assertRaisesRegex(files.WorkdirError, "is the file --text_file reads"):
            self.check(link, inputs=[("--text_file", self.text)])

    def test_a_new_file_beside_the_input_passes(self):
        self.check(os.path.join(self.directory, "out.jsonl"), inputs=[("--text_file", self.text)])

    def test_a_device_passes(self):
        self.check(os.devnull, inputs=[("--text_file", self.text)])

    def test_a_directory_where_nothing_can_be_created_is_refused(self):
        with self.assertRaisesRegex(
            files.WorkdirError, "^cannot use --out=/proc/x.png: nothing can be written in /proc"
        ):
            self.check("/proc/x.png")


class StagingTest(absltest.TestCase):
    def test_only_the_staging_of_a_process_that_no_longer_runs_is_removed(self):
        parent = self.create_tempdir().full_path
        ended = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        stale = os.path.join(parent, f".tmp-{ended.stdout.strip()}-saved_model")
        running = files.staging_path(os.path.join(parent, "saved_model"))
        other = os.path.join(parent, f".tmp-{ended.stdout.strip()}-other")
        for directory in (stale, running, other):
            os.makedirs(os.path.join(directory, "variables"))
        files.remove_stale_staging(os.path.join(parent, "saved_model"))
        self.assertCountEqual(
            os.listdir(parent), [f".tmp-{os.getpid()}-saved_model", os.path.basename(other)]
        )


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

    def test_a_setting_recorded_there_and_left_out_here_differs(self):
        # A fused-softmax run's record against a dense run, whose identity omits softmax.
        files.write_identity(self.workdir, {**IDENTITY, "softmax": "fused"})
        with self.assertRaisesRegex(ConfigError, r"\(softmax fused there, dense here\)"):
            files.check_same_run(self.workdir, IDENTITY)

    def test_a_record_older_than_a_setting_has_the_value_runs_had_then(self):
        # Runs recorded before --initializer existed were initialised "shared".
        with self.assertRaisesRegex(ConfigError, r"\(initializer shared there, independent here\)"):
            files.check_same_run(self.workdir, {**IDENTITY, "initializer": "independent"})

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


class CheckOutputNamesTest(absltest.TestCase):
    def test_a_directory_is_refused(self):
        directory = self.create_tempdir().full_path
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"--output={directory} is a directory; give a file name, e.g. "
            f"--output={directory}/page.html.",
        ):
            files.check_output(directory, "--output", "page.html")

    def test_an_empty_path_is_refused(self):
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError, "--png is empty; give a file name, e.g. --png=shapes.png."
        ):
            files.check_output("", "--png", "shapes.png")

    def test_a_file_under_a_file_is_refused_by_its_own_name(self):
        a_file = self.create_tempfile("a_file").full_path
        with self.assertRaisesWithLiteralMatch(
            files.WorkdirError,
            f"cannot use --output={a_file}/page.html: {a_file} is a file, not a directory; "
            "choose another --output.",
        ):
            files.check_output(f"{a_file}/page.html", "--output", "page.html")

    def test_a_file_in_a_new_directory_passes_and_creates_nothing(self):
        directory = self.create_tempdir().full_path
        files.check_output(os.path.join(directory, "new", "page.html"), "--output", "")
        self.assertEqual(os.listdir(directory), [])


class StartOverTest(absltest.TestCase):
    def test_deletes_what_a_run_wrote_and_nothing_else(self):
        workdir = self.create_tempdir().full_path
        for name in (files.RESULTS_FILE, files.WEIGHTS_FILE, files.LOCK_FILE, "notes.txt"):
            files.write_text(os.path.join(workdir, name), "x")
        files.write_identity(workdir, IDENTITY)
        os.makedirs(os.path.join(workdir, files.SUMMARY_DIR))
        os.makedirs(os.path.join(workdir, files.SAVED_MODEL_DIR, "variables"))
        files.start_over(workdir)
        self.assertCountEqual(os.listdir(workdir), [files.LOCK_FILE, "notes.txt"])


if __name__ == "__main__":
    absltest.main()
