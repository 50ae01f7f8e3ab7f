"""Where --model points and whether the file is sound, checked without TensorFlow."""

import dataclasses
import json
import os
import zipfile

from absl.testing import absltest

from ptb_rnn import reader
from ptb_rnn.config import get_config
from ptb_rnn.model import keras_file

VOCABULARY = ["<eos>", "the", "<unk>", "cat"]
TRAIN_ONE = (
    "pass --model=WORKDIR, the work directory of a finished training run (e.g. runs/small "
    "after make train), or --model=FILE, its model.keras"
)
AGAIN = "train again, or pass another --model."


def network_entry(**changes):
    """config.json's entry of a PTBModel: the small config with 4 words, float32; changes
    replace the config's fields (or, for fused_lstm, fused_softmax, precision, those)."""
    options = {"fused_lstm": True, "fused_softmax": False, "precision": "float32"}
    fields = {**dataclasses.asdict(get_config("small", vocab_size=4))}
    for name, value in changes.items():
        (options if name in options else fields)[name] = value
    return {"class_name": "PTBModel", "config": {"config": fields, **options}}


def model_config(vocabulary=VOCABULARY, network=None, **recorded):
    """config.json of a LanguageModel; recorded: e.g. vocabulary_size=4."""
    return {
        "class_name": "LanguageModel",
        "registered_name": "ptb_rnn>LanguageModel",
        "config": {
            "network": network_entry() if network is None else network,
            "vocabulary": vocabulary,
            **recorded,
        },
    }


def write_model_file(path, config=None, entries=("config.json", "model.weights.h5")):
    """A zip archive laid out as a model.keras file (stored, not compressed)."""
    if config is None:
        config = model_config()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", "{}")
        if "config.json" in entries:
            archive.writestr("config.json", json.dumps(config))
        if "model.weights.h5" in entries:
            archive.writestr("model.weights.h5", b"weights" * 100)
    return path


class FindTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = self.create_tempdir().full_path

    def assert_refused(self, model, expected):
        with self.assertRaises(reader.DataError) as raised:
            keras_file.find(model)
        self.assertEqual(str(raised.exception), expected)

    def test_a_file_is_itself(self):
        path = write_model_file(os.path.join(self.workdir, "mine.keras"))
        self.assertEqual(keras_file.find(path), path)

    def test_a_model_file_named_otherwise_is_told_its_name(self):
        path = write_model_file(os.path.join(self.workdir, "mine.zip"))
        self.assert_refused(
            path,
            f"--model={path} does not end in .keras, the only name under which Keras reads a "
            f"model file; rename it, e.g. to {os.path.join(self.workdir, 'mine.keras')}.",
        )

    def test_a_work_directory_gives_its_model_keras(self):
        path = write_model_file(os.path.join(self.workdir, "model.keras"))
        self.assertEqual(keras_file.find(self.workdir), path)

    def test_nothing_given(self):
        for model in (None, ""):
            self.assert_refused(model, f"no --model given; {TRAIN_ONE}.")

    def test_a_path_that_does_not_exist(self):
        nowhere = os.path.join(self.workdir, "nowhere")
        self.assert_refused(nowhere, f"--model={nowhere} does not exist; {TRAIN_ONE}.")

    def test_an_unfinished_run(self):
        os.mkdir(os.path.join(self.workdir, "checkpoints"))
        self.assert_refused(
            self.workdir,
            f"{self.workdir} has no model.keras: its training has not finished; run the same "
            "training command again to finish it (it resumes from the latest checkpoint).",
        )

    def test_a_run_finished_before_models_were_saved(self):
        with open(os.path.join(self.workdir, "results.json"), "w") as f:
            f.write("{}\n")
        self.assert_refused(
            self.workdir,
            f"{self.workdir} has no model.keras: its run finished before training saved one; "
            "train it again with --restart to get one.",
        )

    def test_a_directory_that_is_no_run(self):
        self.assert_refused(
            self.workdir,
            f"{self.workdir} has no model.keras: it is not the work directory of a training "
            f"run; {TRAIN_ONE}.",
        )


class ReadVocabularyTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.create_tempdir().full_path, "model.keras")

    def assert_refused(self, expected):
        with self.assertRaises(reader.DataError) as raised:
            keras_file.read_vocabulary(self.path)
        self.assertEqual(str(raised.exception), expected)

    def test_reads_the_words_in_id_order(self):
        write_model_file(self.path)
        self.assertEqual(keras_file.read_vocabulary(self.path), VOCABULARY)

    def test_a_text_file(self):
        with open(self.path, "w") as f:
            f.write("the cat sat\n")
        self.assert_refused(
            f"{self.path} is not a model.keras file, or it is damaged (File is not a zip "
            f"file); {AGAIN}"
        )

    def test_a_truncated_file(self):
        write_model_file(self.path)
        with open(self.path, "r+b") as f:
            f.truncate(os.path.getsize(self.path) // 2)
        self.assert_refused(
            f"{self.path} is not a model.keras file, or it is damaged (File is not a zip "
            f"file); {AGAIN}"
        )

    def test_a_changed_byte(self):
        write_model_file(self.path)
        with open(self.path, "r+b") as f:
            data = f.read()
            f.seek(data.index(b"weightsweights") + 3)
            f.write(b"X")
        self.assert_refused(f"{self.path} is damaged (model.weights.h5 is corrupt); {AGAIN}")

    def test_an_archive_without_weights(self):
        write_model_file(self.path, entries=("config.json",))
        self.assert_refused(
            f"{self.path} is not a model.keras file (it lacks model.weights.h5); {AGAIN}"
        )

    def test_another_kind_of_model(self):
        write_model_file(self.path, {"class_name": "Sequential", "registered_name": None})
        self.assert_refused(
            f"{self.path} holds a Sequential, not a model saved by ptb_rnn's training; {AGAIN}"
        )

    def test_a_vocabulary_that_is_not_words(self):
        config = {"registered_name": "ptb_rnn>LanguageModel", "config": {"vocabulary": [1, 2]}}
        write_model_file(self.path, config)
        self.assert_refused(
            f"{self.path} is damaged (its vocabulary is not a list of words); {AGAIN}"
        )

    def test_unreadable(self):
        self.assert_refused(f"cannot read {self.path} (No such file or directory); {AGAIN}")


class EditedModelFileTest(absltest.TestCase):
    """config.json edited into a model that cannot run as trained: refused before loading."""

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.create_tempdir().full_path, "model.keras")

    def assert_refused(self, config, problem):
        write_model_file(self.path, config)
        with self.assertRaises(reader.DataError) as raised:
            keras_file.read_vocabulary(self.path)
        self.assertEqual(str(raised.exception), f"{self.path} is damaged ({problem}); {AGAIN}")

    def test_the_recorded_size_is_accepted(self):
        write_model_file(self.path, model_config(vocabulary_size=4))
        self.assertEqual(keras_file.read_vocabulary(self.path), VOCABULARY)

    def test_a_file_that_records_no_size_is_accepted(self):
        # As written before the size was recorded: 3 words of a 4-word softmax.
        write_model_file(self.path, model_config(VOCABULARY[:3]))
        self.assertEqual(keras_file.read_vocabulary(self.path), VOCABULARY[:3])

    def test_a_vocabulary_cut_shorter(self):
        self.assert_refused(
            model_config(VOCABULARY[:3], vocabulary_size=4),
            "the vocabulary has 3 words and the model was trained with 4",
        )

    def test_a_word_listed_twice(self):
        self.assert_refused(
            model_config(["<eos>", "the", "the", "cat"]),
            "the vocabulary lists 'the' more than once",
        )

    def test_more_words_than_vocab_size(self):
        self.assert_refused(
            model_config([*VOCABULARY, "dog"]),
            "the vocabulary's 5 words do not fit a softmax over vocab_size 4",
        )

    def test_a_vocabulary_without_eos(self):
        self.assert_refused(
            model_config(["the", "<unk>", "cat"]),
            "the vocabulary has no <eos>, the word of every line end",
        )

    def test_an_unknown_precision(self):
        self.assert_refused(
            model_config(network=network_entry(precision="float64")),
            "its config: precision must be one of float32, mixed_bfloat16, got 'float64'",
        )

    def test_mixed_bfloat16_without_the_fused_lstm(self):
        network = network_entry(precision="mixed_bfloat16", fused_lstm=False)
        self.assert_refused(
            model_config(network=network),
            "its config: precision mixed_bfloat16 needs the fused LSTM",
        )

    def test_a_value_config_refuses(self):
        self.assert_refused(
            model_config(network=network_entry(keep_prob=2.0)),
            "its config: keep_prob must be in (0, 1], got 2.0",
        )

    def test_a_whole_number_that_is_not_one(self):
        self.assert_refused(
            model_config(network=network_entry(hidden_size=6.5)),
            "its config's hidden_size is 6.5, not a whole number",
        )

    def test_a_field_config_does_not_have(self):
        self.assert_refused(
            model_config(network=network_entry(forget_bias=1.0)),
            "its config has fields forget_bias, which Config does not",
        )

    def test_a_network_without_config(self):
        self.assert_refused(
            model_config(network={"class_name": "PTBModel"}), "it has no network config"
        )


class WordsTest(absltest.TestCase):
    def test_unknown_words_once_each_in_order(self):
        words = ["the", "zebra", "cat", "lion", "zebra"]
        self.assertEqual(keras_file.unknown_words(words, VOCABULARY), ["zebra", "lion"])

    def test_unknown_words_are_fine_with_unk(self):
        keras_file.check_known(["the", "zebra"], VOCABULARY)

    def test_unknown_words_are_refused_without_unk(self):
        vocabulary = ["<eos>", "the", "cat"]
        with self.assertRaises(reader.DataError) as raised:
            keras_file.check_known(["the", "zebra", "cat", "lion"], vocabulary)
        self.assertEqual(
            str(raised.exception),
            "'zebra', 'lion' are not in the model's vocabulary, which has no <unk> for unknown "
            "words; use words of its vocabulary.",
        )

    def test_quote_some(self):
        self.assertEqual(keras_file.quote_some(["a", "b"]), "'a', 'b'")
        self.assertEqual(
            keras_file.quote_some(list("abcdefg")), "'a', 'b', 'c', 'd', 'e' and 2 more"
        )


if __name__ == "__main__":
    absltest.main()
