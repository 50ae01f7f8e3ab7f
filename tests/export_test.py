"""The export command, run as a user runs it: a SavedModel directory, one-line errors."""

import json
import os
import subprocess
import sys
import zipfile

import helpers
from absl.testing import absltest

from ptb_rnn import export, reader
from ptb_rnn.model import language_model
from ptb_rnn.model.language_model import LanguageModel


class ExportCliTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.tmp = self.create_tempdir().full_path
        self.model = os.path.join(self.tmp, "model.keras")
        LanguageModel(helpers.tiny_model(batch_size=1, seed=0), ["<eos>", "a", "<unk>"]).save(
            self.model
        )
        self.output = os.path.join(self.tmp, "exported", "saved_model")

    def test_writes_a_saved_model(self):
        result = helpers.run_module(
            "ptb_rnn.export", f"--model={self.model}", f"--output={self.output}"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.output, "saved_model.pb")))
        self.assertTrue(os.path.isfile(os.path.join(self.output, "model.tflite")))
        self.assertTrue(os.path.isfile(os.path.join(self.output, "vocabulary.txt")))
        self.assertEqual(os.listdir(os.path.dirname(self.output)), ["saved_model"])
        self.assertEqual(
            result.stdout,
            f"SavedModel of {self.model} written to {self.output}: signatures step, step_ids, "
            "initial_state, vocabulary; with model.tflite (signature step_one) and "
            "vocabulary.txt (see ptb_rnn/model/serving.py).\n",
        )

    def test_removes_what_a_killed_export_left(self):
        ended = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        parent = os.path.dirname(self.output)
        left = os.path.join(parent, f".tmp-{ended.stdout.strip()}-saved_model")
        os.makedirs(os.path.join(left, "variables"))
        result = helpers.run_module(
            "ptb_rnn.export", f"--model={self.model}", f"--output={self.output}"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(parent), ["saved_model"])

    def test_an_output_another_process_wrote_meanwhile_is_named(self):
        # What the export that loses a race finds when it renames its SavedModel into place.
        os.makedirs(self.output)
        with open(os.path.join(self.output, "saved_model.pb"), "w") as f:
            f.write("the other export's\n")
        with self.assertRaisesWithLiteralMatch(
            reader.DataError,
            f"another process wrote --output={self.output} while this export was writing it, "
            "so this one stopped; use what it wrote, or remove it and export again.",
        ):
            export.write(language_model.load(self.model), self.output)
        self.assertEqual(os.listdir(os.path.dirname(self.output)), ["saved_model"])

    def assert_one_line_and_exit_2(self, flags, expected):
        result = helpers.run_module("ptb_rnn.export", *flags)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"error: {expected}\n")
        self.assertFalse(os.path.exists(os.path.dirname(self.output)))

    def test_no_output(self):
        self.assert_one_line_and_exit_2(
            [f"--model={self.model}"],
            "pass --output=DIR, the directory to write the SavedModel to.",
        )

    def test_an_output_directory_with_files_in_it(self):
        os.makedirs(self.output)
        with open(os.path.join(self.output, "notes.txt"), "w") as f:
            f.write("mine\n")
        result = helpers.run_module(
            "ptb_rnn.export", f"--model={self.model}", f"--output={self.output}"
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(
            result.stderr,
            f"error: --output={self.output} exists and is not an empty directory; choose "
            "another --output, or remove it first.\n",
        )
        self.assertEqual(os.listdir(self.output), ["notes.txt"])

    def test_a_model_that_does_not_exist(self):
        nowhere = os.path.join(self.tmp, "nowhere.keras")
        self.assert_one_line_and_exit_2(
            [f"--model={nowhere}", f"--output={self.output}"],
            f"--model={nowhere} does not exist; pass --model=WORKDIR, the work directory of a "
            "finished training run (e.g. runs/small after make train), or --model=FILE, its "
            "model.keras.",
        )

    def test_a_damaged_model(self):
        with open(self.model, "r+b") as f:
            f.truncate(100)
        self.assert_one_line_and_exit_2(
            [f"--model={self.model}", f"--output={self.output}"],
            f"{self.model} is not a model.keras file, or it is damaged (File is not a zip "
            "file); train again, or pass another --model.",
        )

    def test_a_model_whose_vocabulary_was_edited(self):
        with zipfile.ZipFile(self.model) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        config = json.loads(entries["config.json"])
        config["config"]["vocabulary"] = ["<eos>", "a", "a"]
        entries["config.json"] = json.dumps(config).encode()
        with zipfile.ZipFile(self.model, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        self.assert_one_line_and_exit_2(
            [f"--model={self.model}", f"--output={self.output}"],
            f"{self.model} is damaged (the vocabulary lists 'a' more than once); train again, "
            "or pass another --model.",
        )


if __name__ == "__main__":
    absltest.main()
