"""The shapes tool from the command line: flags in, text, JSON, a page and a PNG out, one-line
errors."""

import json
import os
import re
import struct

import helpers
import numpy as np
from absl.testing import absltest

from ptb_rnn import reader
from ptb_rnn.shapes import page

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


def run_shapes(*flags):
    return helpers.run_module("ptb_rnn.shapes", *flags)


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

    def test_a_png_name_of_another_kind(self):
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", "--png=fig.txt"),
            "--png=fig.txt does not end in .png; give a .png file name, e.g. --png=shapes.png.",
        )

    def test_a_png_that_is_a_directory(self):
        directory = self.create_tempdir().full_path
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", f"--png={directory}"),
            f"--png={directory} is a directory; give a file name, e.g. "
            f"--png={directory}/shapes.png.",
        )
        self.assertFalse(os.path.exists(directory + ".png"))

    def test_a_png_where_nothing_can_be_written(self):
        result = run_shapes(f"--text_file={self.text_file}", "--png=/proc/x.png")
        self.assertEqual(result.returncode, 2)
        self.assertRegex(
            result.stderr,
            r"^error: cannot use --png=/proc/x.png: nothing can be written in /proc \(.+\); "
            r"choose another --png.\n$",
        )
        self.assertEqual(result.stdout, "")

    def test_a_text_file_that_is_a_directory(self):
        directory = self.create_tempdir().full_path
        self.assert_fails_with(
            run_shapes(f"--text_file={directory}"),
            f"--text_file={directory} is a directory; give the path of a text file.",
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
            "unknown --format=xml; choose one of text, json, html.",
        )

    def test_html_page_of_the_first_words(self):
        html = os.path.join(self.create_tempdir().full_path, "new", "shapes.html")
        result = run_shapes(
            f"--text_file={self.text_file}",
            "--config=test",
            "--batch_size=3",
            "--num_steps=2",
            "--words=10",
            "--format=html",
            f"--output={html}",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"Written: {html}\n")
        with open(html) as f:
            data = page.embedded_data(f.read())
        # 10 of the 15 words: rows of 3, one dropped; one window per row (3 - 1) // 2.
        self.assertEqual(data["words"], list("abcdefghij"))
        self.assertEqual(data["ids"], list(range(10)))
        self.assertEqual(data["stream_words"], 15)
        self.assertEqual(data["description"]["source"], f"the first 10 words of {self.text_file}")
        window = data["description"]["windows"][0]
        self.assertEqual(window["x"], [["a", "b"], ["d", "e"], ["g", "h"]])

    def test_json_to_output(self):
        output = os.path.join(self.create_tempdir().full_path, "shapes.json")
        result = run_shapes(
            f"--text_file={self.text_file}",
            "--config=test",
            "--batch_size=3",
            "--num_steps=2",
            "--format=json",
            f"--output={output}",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"Written: {output}\n")
        with open(output) as f:
            self.assertEqual(json.load(f)["rows"][2]["words"], list("klmno"))

    def test_html_without_output(self):
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", "--format=html"),
            "--format=html writes a page to a file; give --output=FILE, e.g. --output=shapes.html.",
        )

    def test_output_directory_refused_before_the_input_is_read(self):
        directory = self.create_tempdir().full_path
        # The text file does not exist either: --output is checked first.
        self.assert_fails_with(
            run_shapes("--text_file=no/such.txt", "--format=html", f"--output={directory}"),
            f"--output={directory} is a directory; give a file name, e.g. "
            f"--output={directory}/shapes.html.",
        )
        self.assertEqual(os.listdir(directory), [])

    def test_output_under_a_file_refused(self):
        a_file = self.create_tempfile("a_file").full_path
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", f"--output={a_file}/shapes.txt"),
            f"cannot use --output={a_file}/shapes.txt: {a_file} is a file, not a directory; "
            "choose another --output.",
        )

    def test_png_under_a_file_refused(self):
        a_file = self.create_tempfile("a_file").full_path
        self.assert_fails_with(
            run_shapes(f"--text_file={self.text_file}", f"--png={a_file}/shapes.png"),
            f"cannot use --png={a_file}/shapes.png: {a_file} is a file, not a directory; "
            "choose another --png.",
        )

    def test_too_many_words_for_a_page(self):
        self.assert_fails_with(
            run_shapes(
                f"--text_file={self.text_file}", "--format=html", "--output=x.html", "--words=20001"
            ),
            "--words=20,001 is more than a page embeds; give --words of at most 20,000.",
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
