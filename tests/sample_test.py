"""The sample command, run as a user runs it: seeded text, line breaks, one-line errors."""

import os
import shutil
import tempfile

import helpers
from absl.testing import absltest, parameterized

from ptb_rnn.model import language_model
from ptb_rnn.model.sampling import Sampling, sample, to_text


def run_sample(*flags):
    return helpers.run_module("ptb_rnn.sample", *flags)


class SampleCliTest(parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.directory = tempfile.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, cls.directory)
        cls.workdir, _, _ = helpers.train_tiny(cls.directory)

    def sample_text(self, *flags):
        result = run_sample(f"--model={self.workdir}", "--prime=the cat", *flags)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_the_same_seed_prints_the_same_text(self):
        flags = ["--num_words=20", "--temperature=0.8", "--top_k=10", "--num_samples=2"]
        first = self.sample_text(*flags, "--seed=1")
        self.assertEqual(self.sample_text(*flags, "--seed=1"), first)
        self.assertNotEqual(self.sample_text(*flags, "--seed=2"), first)
        lines = first.splitlines()
        self.assertEqual(lines[0], "--- sample 1 of 2 ---")
        self.assertTrue(lines[1].startswith("the cat "), lines[1])
        self.assertIn("--- sample 2 of 2 ---", lines)
        self.assertGreater(len(lines), 4, "20 words of 5-word sentences print line breaks")

    def test_temperature_0_prints_the_greedy_text(self):
        model = language_model.load(os.path.join(self.workdir, "model.keras"))
        [words] = sample(model, ["the", "cat"], Sampling(num_words=15, temperature=0))
        printed = self.sample_text("--num_words=15", "--temperature=0")
        self.assertEqual(printed, to_text(["the", "cat", *words]).rstrip("\n") + "\n")

    def test_greedy_samples_are_said_to_be_the_same(self):
        result = run_sample(
            f"--model={self.workdir}", "--prime=the cat", "--temperature=0", "--num_samples=3"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            "note: greedy drawing (--temperature=0 or --top_k=1) has no randomness: the 3 "
            "samples are the same text.",
            result.stderr.splitlines(),
        )
        texts = result.stdout.split("--- sample ")[1:]
        self.assertLen(texts, 3)
        self.assertLen({text.split("---\n", 1)[1] for text in texts}, 1)

    def test_noprime_starts_sentence_reads_the_prime_from_the_zero_state(self):
        model = language_model.load(os.path.join(self.workdir, "model.keras"))
        greedy = Sampling(num_words=15, temperature=0, prime_starts_sentence=False)
        [words] = sample(model, ["ate", "the"], greedy)
        result = run_sample(
            f"--model={self.workdir}",
            "--prime=ate the",
            "--num_words=15",
            "--temperature=0",
            "--noprime_starts_sentence",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, to_text(["ate", "the", *words]).rstrip("\n") + "\n")

    def assert_one_line_and_exit_2(self, flags, expected):
        result = run_sample(*flags)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}\n")
        self.assertEqual(result.stdout, "")

    @parameterized.named_parameters(
        (
            "negative_temperature",
            ["--temperature=-0.5"],
            "--temperature must be a number >= 0, got -0.5; pass e.g. --temperature=0.8 (1 "
            "draws from the model's distribution, 0 is greedy).",
        ),
        (
            "negative_top_k",
            ["--top_k=-3"],
            "--top_k must be >= 0, got -3; pass e.g. --top_k=40 (0 draws from all words, 1 is "
            "greedy).",
        ),
        (
            "no_words",
            ["--num_words=0"],
            "--num_words must be at least 1, got 0; pass e.g. --num_words=3.",
        ),
        (
            "prime_outside_the_vocabulary",
            ["--prime=The cat sat on 3 mats"],
            "the prime has words outside the model's vocabulary: 'The', '3', 'mats'; write "
            "them as the training text does (PTB: lower case, N for a number), or <unk> for a "
            "word it lacks.",
        ),
    )
    def test_bad_flag(self, flags, expected):
        self.assert_one_line_and_exit_2([f"--model={self.workdir}", *flags], expected)

    def test_a_model_file_that_is_not_one(self):
        path = self.create_tempfile("model.keras", "not a model\n").full_path
        self.assert_one_line_and_exit_2(
            [f"--model={path}"],
            f"{path} is not a model.keras file, or it is damaged (File is not a zip file); "
            "train again, or pass another --model.",
        )

    def test_a_work_directory_with_no_model(self):
        workdir = self.create_tempdir().full_path
        self.assert_one_line_and_exit_2(
            [f"--model={workdir}"],
            f"{workdir} has no model.keras: it is not the work directory of a training run; "
            "pass --model=WORKDIR, the work directory of a finished training run (e.g. "
            "runs/small after make train), or --model=FILE, its model.keras.",
        )


if __name__ == "__main__":
    absltest.main()
