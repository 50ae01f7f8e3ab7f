"""The shapes tool: what it shows is what ptb_producer and PTBModel produce."""

import json
import os
import re
import struct
import subprocess
import sys

import helpers
import numpy as np
from absl.testing import absltest

from ptb_rnn import reader, shapes
from ptb_rnn.config import ConfigError, get_config

# The tutorial's reader_test ids, spelled with letters: id 0 is "a", id 6 is "g".
RAW = [4, 3, 2, 1, 0, 5, 6, 1, 1, 1, 1, 0, 3, 4, 1]
LETTERS = list("abcdefg")

# Fifteen distinct words: build_vocab gives them ids 0..14, so they fold as in the
# diagram of reader.py (batch_size 3, num_steps 2).
ALPHABET_TEXT = "a b c d e f g h i j k l m n o"

DESCRIPTION_KEYS = {
    "source",
    "vocabulary_size",
    "batch_size",
    "num_steps",
    "corpus_words",
    "batch_len",
    "dropped_tail",
    "epoch_size",
    "unread_per_row",
    "words_per_update",
    "updates_per_epoch",
    "words_per_epoch",
    "rows",
    "windows",
    "model",
    "reading",
}


def tiny_config(**overrides):
    fields = dict(hidden_size=3, vocab_size=7, num_layers=2, batch_size=3, num_steps=2)
    return get_config("small", **{**fields, **overrides})


class LayoutTest(absltest.TestCase):
    def test_golden_15_tokens(self):
        layout = shapes.layout(RAW, LETTERS, batch_size=3, num_steps=2, num_windows=2)
        # Rows: e d c b a | f g b b b | b a d e b (ids 4 3 2 1 0 | 5 6 1 1 1 | 1 0 3 4 1).
        self.assertEqual(
            layout["rows"],
            [
                {"start": 0, "words": ["e", "d", "c", "b", "a"]},
                {"start": 5, "words": ["f", "g", "b", "b", "b"]},
                {"start": 10, "words": ["b", "a", "d", "e", "b"]},
            ],
        )
        first, second = layout["windows"]
        self.assertEqual(first["x"], [["e", "d"], ["f", "g"], ["b", "a"]])
        self.assertEqual(first["y"], [["d", "c"], ["g", "b"], ["a", "d"]])
        self.assertEqual(second["x"], [["c", "b"], ["b", "b"], ["d", "e"]])
        self.assertEqual(second["y"], [["b", "a"], ["b", "b"], ["e", "b"]])
        self.assertEqual(first["x_ids"], [[4, 3], [5, 6], [1, 0]])
        self.assertEqual(second["y_ids"], [[1, 0], [1, 1], [4, 1]])
        self.assertEqual((first["columns"], second["columns"]), ([0, 2], [2, 4]))

    def test_golden_numbers(self):
        layout = shapes.layout(RAW, LETTERS, batch_size=3, num_steps=2, num_windows=2)
        numbers = {key: value for key, value in layout.items() if isinstance(value, int)}
        self.assertEqual(
            numbers,
            {
                "batch_size": 3,
                "num_steps": 2,
                "corpus_words": 15,
                "batch_len": 5,
                "dropped_tail": 0,
                "epoch_size": 2,
                "unread_per_row": 0,
                "words_per_update": 6,
                "updates_per_epoch": 2,
                "words_per_epoch": 12,
            },
        )

    def test_windows_are_ptb_producers(self):
        ids = np.random.default_rng(0).integers(0, 7, 50)
        layout = shapes.layout(ids, LETTERS, batch_size=4, num_steps=3, num_windows=3)
        batches = reader.ptb_producer(ids, batch_size=4, num_steps=3)
        self.assertEqual(layout["batch_len"], batches.batch_len)
        self.assertEqual(layout["epoch_size"], batches.epoch_size)
        self.assertLen(layout["windows"], 3)
        for window, (x, y) in zip(layout["windows"], batches):
            np.testing.assert_array_equal(window["x_ids"], x)
            np.testing.assert_array_equal(window["y_ids"], y)
            self.assertEqual(window["x"], [[LETTERS[i] for i in row] for row in x])
        for row, data_row in zip(layout["rows"], batches.data):
            self.assertEqual(ids[row["start"]], data_row[0])
            self.assertLen(row["words"], 3 * 3 + 1)  # the shown x columns, and y's last

    def test_tail_dropped_and_end_of_row_unread(self):
        # 17 ids, 3 rows of 5: ids 15 and 16 are dropped; with num_steps 3 one window
        # reads columns 0..3 of each row (x 0..2, y 1..3), so column 4 is never read.
        layout = shapes.layout(list(range(17)), [str(i) for i in range(17)], 3, 3, 2)
        self.assertEqual(
            (layout["batch_len"], layout["dropped_tail"], layout["epoch_size"]), (5, 2, 1)
        )
        self.assertEqual(layout["unread_per_row"], 1)
        self.assertLen(layout["windows"], 1)

    def test_windows_shown_at_most_epoch_size(self):
        layout = shapes.layout(RAW, LETTERS, batch_size=3, num_steps=2, num_windows=5)
        self.assertLen(layout["windows"], 2)

    def test_no_window_is_an_error(self):
        with self.assertRaisesRegex(ConfigError, "--windows must be at least 1"):
            shapes.layout(RAW, LETTERS, batch_size=3, num_steps=2, num_windows=0)

    def test_empty_epoch_is_an_error(self):
        with self.assertRaisesRegex(reader.DataError, "epoch_size == 0"):
            shapes.layout(RAW, LETTERS, batch_size=5, num_steps=3, num_windows=1)


class ModelShapesTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = shapes.model_shapes(tiny_config(num_steps=4, batch_size=2))

    def test_tensor_shapes(self):
        self.assertEqual(
            [(t["name"], t["symbols"], t["shape"]) for t in self.model["tensors"]],
            [
                ("ids", "[B, T]", [2, 4]),
                ("embeddings", "[B, T, H]", [2, 4, 3]),
                ("lstm_0 outputs", "[B, T, H]", [2, 4, 3]),
                ("lstm_0 state h", "[B, H]", [2, 3]),
                ("lstm_0 state c", "[B, H]", [2, 3]),
                ("lstm_1 outputs", "[B, T, H]", [2, 4, 3]),
                ("lstm_1 state h", "[B, H]", [2, 3]),
                ("lstm_1 state c", "[B, H]", [2, 3]),
                ("logits", "[B, T, V]", [2, 4, 7]),
                ("loss", "[]", []),
            ],
        )

    def test_parameter_counts(self):
        # embedding V*H; LSTM 4H*(in+H) + 4H with in = H; softmax H*V + V.
        self.assertEqual(
            self.model["parameters"],
            {"embedding": 21, "lstm_0": 84, "lstm_1": 84, "softmax": 28, "total": 217},
        )

    def test_flops_per_word(self):
        # 2 * ((3+3) * 12) per LSTM layer, twice, plus 2 * 3 * 7 for the softmax.
        self.assertEqual(self.model["flops_per_word"], {"forward": 330, "forward_backward": 990})


class FormatTextTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        description = shapes.describe(RAW, LETTERS, tiny_config(), num_windows=2, source="RAW")
        cls.text = shapes.format_text(description)

    def test_prints_the_golden_windows(self):
        # x then y of each row, side by side.
        self.assertRegex(self.text, r"(?m)^ +row 0 +e d +d c$")
        self.assertRegex(self.text, r"(?m)^ +row 2 +b a +a d$")
        self.assertRegex(self.text, r"(?m)^ +row 1 +b b +b b$")

    def test_prints_the_state_carry_row_by_row(self):
        self.assertIn(
            "row 1: its (h, c) after 'g' is its initial (h, c) in window 1, which starts at 'b'",
            self.text,
        )
        self.assertNotIn("into window 2", self.text)  # the epoch ends after window 1

    def test_prints_the_epoch_arithmetic(self):
        self.assertIn("batch_len         = 15 // 3 = 5 words per row", self.text)
        self.assertIn("(batch_len - 1) // num_steps = 4 // 2 = 2 windows", self.text)
        self.assertIn("logits          [B, T, V]  [3, 2, 7]", self.text)


def run_shapes(*flags):
    return subprocess.run(
        [sys.executable, "-m", "ptb_rnn.shapes", *flags],
        capture_output=True,
        text=True,
        cwd=helpers.ROOT,
        timeout=300,
    )


def png_size(path):
    """(width, height) from a PNG's header."""
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", header
    return struct.unpack(">II", header[16:24])


class CliTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.text_file = self.create_tempfile("alphabet.txt", ALPHABET_TEXT).full_path

    def test_json_and_png(self):
        png = os.path.join(self.create_tempdir().full_path, "shapes.png")
        flags = ["--config=test", "--batch_size=3", "--num_steps=2", "--vocab_size=15"]
        result = run_shapes(
            f"--text_file={self.text_file}", *flags, "--format=json", f"--png={png}"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        description = json.loads(result.stdout)
        self.assertEqual(set(description), DESCRIPTION_KEYS)
        self.assertEqual(
            set(description["model"]), {"config", "tensors", "parameters", "flops_per_word"}
        )
        for window in description["windows"]:
            self.assertEqual(set(window), {"index", "columns", "x", "y", "x_ids", "y_ids"})

        # The diagram of reader.py, in words.
        first, second = description["windows"]
        self.assertEqual(first["x"], [["a", "b"], ["f", "g"], ["k", "l"]])
        self.assertEqual(first["y"], [["b", "c"], ["g", "h"], ["l", "m"]])
        self.assertEqual(second["x"], [["c", "d"], ["h", "i"], ["m", "n"]])
        self.assertEqual(second["y"], [["d", "e"], ["i", "j"], ["n", "o"]])
        words = reader.read_words(self.text_file)
        ids, _ = reader.words_to_ids(words, reader.build_vocab(words))
        batches = reader.ptb_producer(ids, batch_size=3, num_steps=2)
        self.assertEqual(description["epoch_size"], batches.epoch_size)
        for window, (x, y) in zip(description["windows"], batches):
            np.testing.assert_array_equal(window["x_ids"], x)
            np.testing.assert_array_equal(window["y_ids"], y)
        logits = [t for t in description["model"]["tensors"] if t["name"] == "logits"]
        self.assertEqual(logits[0]["shape"], [3, 2, 15])

        width, height = png_size(png)
        self.assertGreater(width, 800)
        self.assertGreater(height, 500)
        self.assertGreater(os.path.getsize(png), 20_000)

    def test_text_output(self):
        result = run_shapes(
            f"--text_file={self.text_file}", "--config=test", "--batch_size=3", "--num_steps=2"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^ +row 2 +k l +l m$")
        self.assertRegex(result.stdout, r"(?m)^ +row 2 +m n +n o$")
        for section in ("1. ", "2. ", "3. ", "4. ", "5. "):
            self.assertRegex(result.stdout, re.compile("^" + section, re.M))

    def assert_fails_with(self, result, message):
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip().splitlines(), [f"error: {message}"])

    def test_missing_text_file(self):
        self.assert_fails_with(
            run_shapes("--text_file=no/such.txt"),
            "--text_file=no/such.txt does not exist; give the path of a text file.",
        )

    def test_empty_epoch(self):
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", "--batch_size=5", "--num_steps=3"),
            "epoch_size == 0: 15 ids cannot fill one window of batch_size 5 x num_steps 3; "
            "decrease batch_size or num_steps.",
        )

    def test_bad_format(self):
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", "--format=xml"),
            "unknown --format=xml; choose one of text, json.",
        )

    def test_data_path_corpus(self):
        corpus = helpers.write_corpus(
            self.create_tempdir().full_path, ALPHABET_TEXT + "\n", "a b\n", "c d\n"
        )
        result = run_shapes(
            f"--data_path={corpus}",
            "--batch_size=5",
            "--num_steps=2",
            "--format=json",
            "--config=test",
            "--vocab_size=15",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        description = json.loads(result.stdout)
        self.assertEqual(description["source"], os.path.join(corpus, "ptb.train.txt"))
        self.assertEqual([row["words"][0] for row in description["rows"]], list("adgjm"))


if __name__ == "__main__":
    absltest.main()
