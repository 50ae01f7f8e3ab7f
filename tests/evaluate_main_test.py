"""The evaluate command, run as a user runs it: the run's test perplexity, one-line errors."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import helpers
from absl.testing import absltest, parameterized

TRAIN_ONE = (
    "pass --model=WORKDIR, the work directory of a finished training run (e.g. runs/small "
    "after make train), or --model=FILE, its model.keras"
)


def run_evaluate(*flags):
    return helpers.run_module("ptb_rnn.evaluate", *flags)


def parse_output(stdout: str) -> dict:
    """The printed "name: value" lines, values as written."""
    return dict(line.split(": ", 1) for line in stdout.splitlines())


class EvaluateCliTest(parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.directory = tempfile.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, cls.directory)
        cls.workdir, corpus_dir, _ = helpers.train_tiny(cls.directory, " the zebra sat on \n")
        cls.test_file = os.path.join(corpus_dir, "ptb.test.txt")

    def setUp(self):
        super().setUp()
        self.tmp = self.create_tempdir().full_path
        self.per_word = os.path.join(self.tmp, "per_word.jsonl")

    def test_prints_the_runs_test_perplexity_and_each_words_log_prob(self):
        result = run_evaluate(
            f"--model={self.workdir}",
            f"--text_file={self.test_file}",
            f"--per_word={self.per_word}",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = parse_output(result.stdout)
        with open(os.path.join(self.workdir, "results.json")) as f:
            test_perplexity = json.load(f)["test_perplexity"]
        self.assertAlmostEqual(float(printed["perplexity"]), test_perplexity, delta=1e-4)
        self.assertEqual(printed["model"], os.path.join(self.workdir, "model.keras"))
        self.assertEqual(printed["outside the vocabulary"], "1 (read as <unk>)")
        with open(self.per_word) as f:
            lines = [json.loads(line) for line in f]
        num_words = int(printed["words"].split()[0])
        self.assertLen(lines, num_words - 1)
        total = float(printed["log-probability"].split()[0])
        self.assertAlmostEqual(sum(line["log_prob"] for line in lines), total, delta=1e-3)
        self.assertEqual([line for line in lines if line.get("unk")], [lines[-4]])
        self.assertEqual(lines[-4]["word"], "zebra")

    def assert_one_line_and_exit_2(self, flags, expected):
        result = run_evaluate(*flags, f"--per_word={self.per_word}")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}\n")
        self.assertEqual(result.stdout, "")
        self.assertFalse(os.path.exists(self.per_word))

    def text_file(self, text):
        return self.create_tempfile("text.txt", text).full_path

    def test_no_model(self):
        self.assert_one_line_and_exit_2(
            [f"--text_file={self.test_file}"], f"no --model given; {TRAIN_ONE}."
        )

    def test_a_model_that_does_not_exist(self):
        nowhere = os.path.join(self.tmp, "nowhere")
        self.assert_one_line_and_exit_2(
            [f"--model={nowhere}", f"--text_file={self.test_file}"],
            f"--model={nowhere} does not exist; {TRAIN_ONE}.",
        )

    def test_a_work_directory_with_no_finished_model(self):
        unfinished = os.path.join(self.tmp, "unfinished")
        os.makedirs(os.path.join(unfinished, "checkpoints"))
        self.assert_one_line_and_exit_2(
            [f"--model={unfinished}", f"--text_file={self.test_file}"],
            f"{unfinished} has no model.keras: its training has not finished; run the same "
            "training command again to finish it (it resumes from the latest checkpoint).",
        )

    def test_a_truncated_model_file(self):
        damaged = os.path.join(self.tmp, "model.keras")
        with open(os.path.join(self.workdir, "model.keras"), "rb") as f:
            data = f.read()
        with open(damaged, "wb") as f:
            f.write(data[: len(data) // 2])
        self.assert_one_line_and_exit_2(
            [f"--model={damaged}", f"--text_file={self.test_file}"],
            f"{damaged} is not a model.keras file, or it is damaged (File is not a zip file); "
            "train again, or pass another --model.",
        )

    def test_no_text_file(self):
        self.assert_one_line_and_exit_2(
            [f"--model={self.workdir}"], "pass --text_file=FILE, the text to score."
        )

    def test_a_text_file_that_does_not_exist(self):
        nowhere = os.path.join(self.tmp, "nowhere.txt")
        self.assert_one_line_and_exit_2(
            [f"--model={self.workdir}", f"--text_file={nowhere}"],
            f"--text_file={nowhere} does not exist; give the path of a text file.",
        )

    @parameterized.named_parameters(("empty", ""), ("only_spaces", "  \t "))
    def test_an_empty_text_file(self, text):
        path = self.text_file(text)
        self.assert_one_line_and_exit_2(
            [f"--model={self.workdir}", f"--text_file={path}"],
            f"{path} is empty; give a text with at least two words.",
        )

    def test_a_text_of_one_word(self):
        path = self.text_file("the")
        self.assert_one_line_and_exit_2(
            [f"--model={self.workdir}", f"--text_file={path}"],
            f"{path} has one word; a perplexity needs at least two (the first word is only "
            "read), give a longer text.",
        )

    def test_reads_the_text_from_standard_input(self):
        result = subprocess.run(
            [sys.executable, "-m", "ptb_rnn.evaluate", f"--model={self.workdir}", "--text_file=-"],
            input="the cat sat on the mat\n",
            capture_output=True,
            text=True,
            cwd=helpers.ROOT,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = parse_output(result.stdout)
        self.assertEqual(printed["text"], "-")
        self.assertEqual(printed["words"], "7 (6 predicted: all but the first)")

    def test_a_text_file_that_is_a_directory(self):
        self.assert_one_line_and_exit_2(
            [f"--model={self.workdir}", f"--text_file={self.tmp}"],
            f"--text_file={self.tmp} is a directory; give the path of a text file.",
        )

    def assert_refused_output(self, per_word, expected):
        result = run_evaluate(
            f"--model={self.workdir}", f"--text_file={self.test_file}", f"--per_word={per_word}"
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}\n")
        self.assertEqual(result.stdout, "")

    def test_per_word_is_the_model(self):
        model = os.path.join(self.workdir, "model.keras")
        with open(model, "rb") as f:
            before = f.read()
        self.assert_refused_output(
            model,
            f"--per_word={model} is the file --model reads ({model}); writing it would "
            "destroy it, give another --per_word.",
        )
        with open(model, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_per_word_is_the_text(self):
        self.assert_refused_output(
            self.test_file,
            f"--per_word={self.test_file} is the file --text_file reads ({self.test_file}); "
            "writing it would destroy it, give another --per_word.",
        )

    def test_per_word_is_the_file_standard_input_reads(self):
        text = self.text_file("the cat sat on the mat\n")
        with open(text) as stdin:
            result = subprocess.run(
                [sys.executable, "-m", "ptb_rnn.evaluate", f"--model={self.workdir}"]
                + ["--text_file=-", f"--per_word={text}"],
                stdin=stdin,
                capture_output=True,
                text=True,
                cwd=helpers.ROOT,
                timeout=300,
            )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: --per_word={text} is the file --text_file reads (/dev/stdin); writing it "
            "would destroy it, give another --per_word.\n",
        )
        with open(text) as f:
            self.assertEqual(f.read(), "the cat sat on the mat\n")

    def test_per_word_is_empty(self):
        self.assert_refused_output(
            "", "--per_word is empty; give a file name, e.g. --per_word=per_word.jsonl."
        )

    def test_per_word_is_a_directory(self):
        result = run_evaluate(
            f"--model={self.workdir}", f"--text_file={self.test_file}", f"--per_word={self.tmp}"
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: --per_word={self.tmp} is a directory; give a file name, e.g. "
            f"--per_word={self.tmp}/per_word.jsonl.\n",
        )


if __name__ == "__main__":
    absltest.main()
