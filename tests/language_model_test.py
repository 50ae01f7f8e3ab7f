"""A model with its vocabulary: the reader's ids, one .keras file, the same numbers reloaded."""

import json
import os
import subprocess
import sys
import unittest
import zipfile

import helpers
import keras
import numpy as np
import tensorflow as tf

from ptb_rnn import reader
from ptb_rnn.model import language_model
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.model.lstm import FusedLSTM
from ptb_rnn.model.network import PTBModel

# 19 words with <unk> and <eos>; the valid text has two words outside them.
TRAIN = "a b c d e f g h <unk>\n" * 3 + "i j k l m n o p q\n"
VALID = "a zebra b\nc lion <unk>\n"
TEXT = ["a", "b", "c", "<eos>", "d", "e"]


def tiny_language_model(vocabulary, seed=0):
    """A LanguageModel of `helpers.tiny_model` (20 softmax outputs, random weights)."""
    return LanguageModel(helpers.tiny_model(batch_size=1, seed=seed, init_scale=1.0), vocabulary)


class WordsToIdsTest(tf.test.TestCase):
    def test_ids_equal_the_readers_and_unknown_words_are_unk(self):
        directory = helpers.write_corpus(self.get_temp_dir(), TRAIN, VALID, VALID)
        corpus = reader.load_corpus(directory)
        lm = tiny_language_model(corpus.id_to_word)
        words = reader.read_words(os.path.join(directory, "ptb.valid.txt"))
        self.assertAllEqual(lm.words_to_ids(words), corpus.valid)
        self.assertEqual(lm.unk_id, corpus.word_to_id["<unk>"])
        self.assertEqual(lm.words_to_ids(["zebra"]).tolist(), [lm.unk_id])

    @unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
    def test_ptb_ids_equal_the_readers(self):
        corpus = reader.load_corpus(helpers.PTB_DIR)
        lm = LanguageModel(helpers.tiny_model(batch_size=1, vocab_size=10000), corpus.id_to_word)
        for split in reader.SPLITS[1:]:
            words = reader.read_words(os.path.join(helpers.PTB_DIR, reader.split_filename(split)))
            self.assertAllEqual(lm.words_to_ids(words), getattr(corpus, split))

    def test_an_unknown_word_without_unk_is_refused(self):
        lm = tiny_language_model(["<eos>", "a", "b"])
        self.assertIsNone(lm.unk_id)
        with self.assertRaisesRegex(reader.DataError, "^'zebra' is not in the model's vocab"):
            lm.words_to_ids(["a", "zebra", "b"])

    def test_ids_to_words(self):
        lm = tiny_language_model(["<eos>", "a", "b"])
        self.assertEqual(lm.ids_to_words(np.array([[2, 0, 1]])), ["b", "<eos>", "a"])

    def test_a_word_listed_twice_is_refused(self):
        with self.assertRaises(reader.DataError) as raised:
            tiny_language_model(["<eos>", "a", "b", "a"])
        self.assertEqual(str(raised.exception), "the vocabulary lists 'a' more than once.")

    def test_more_words_than_the_softmax_has_outputs(self):
        with self.assertRaisesRegex(ValueError, "21 words do not fit a softmax over vocab_size 20"):
            tiny_language_model([f"w{i}" for i in range(21)])


class LogProbsTest(tf.test.TestCase):
    def test_are_the_log_softmax_of_the_networks_logits(self):
        lm = tiny_language_model(["<eos>", "a", "b"])
        ids = np.array([[1, 2, 0]])
        log_probs, state = lm.log_probs(ids, lm.zero_state(1))
        logits, expected_state = lm.network(ids, lm.zero_state(1))
        self.assertEqual(log_probs.shape, (1, 3, 20))
        self.assertAllClose(tf.reduce_sum(tf.exp(log_probs), axis=-1), np.ones([1, 3]))
        self.assertAllClose(log_probs, tf.nn.log_softmax(logits))
        self.assertAllClose(state, expected_state)


class SaveLoadTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.vocabulary = [f"w{i}" for i in range(18)] + ["<unk>", "<eos>"]
        self.lm = tiny_language_model(self.vocabulary, seed=1)
        self.path = os.path.join(self.get_temp_dir(), "model.keras")
        self.lm.save(self.path)

    def test_same_log_probs_after_reload(self):
        # Without PTBModel.build_from_config the reloaded weights would be random ones.
        reloaded = keras.saving.load_model(self.path)
        ids = reloaded.words_to_ids([*TEXT, "zebra"])[np.newaxis]
        expected, _ = self.lm.log_probs(ids, self.lm.zero_state(1))
        log_probs, _ = reloaded.log_probs(ids, reloaded.zero_state(1))
        self.assertAllEqual(log_probs, expected)

    def test_vocabulary_and_config_are_inside(self):
        reloaded = language_model.load(self.path)
        self.assertIsInstance(reloaded, LanguageModel)
        self.assertEqual(reloaded.vocabulary, tuple(self.vocabulary))
        self.assertEqual(reloaded.unk_id, 18)
        self.assertEqual(reloaded.network.config, self.lm.network.config)

    def test_the_networks_options_are_inside(self):
        network = PTBModel(
            helpers.tiny_config(), fused_lstm=True, fused_softmax=True, precision="mixed_bfloat16"
        ).build_for(1)
        LanguageModel(network, self.vocabulary).save(self.path)
        reloaded = language_model.load(self.path).network
        self.assertTrue(reloaded.fused_softmax)
        self.assertEqual(reloaded.precision, "mixed_bfloat16")
        self.assertIsInstance(reloaded.lstm_layers[0], FusedLSTM)

    def test_the_file_records_the_vocabulary_size(self):
        with zipfile.ZipFile(self.path) as archive:
            config = json.loads(archive.read("config.json"))
        self.assertEqual(config["config"]["vocabulary_size"], 20)

    def test_load_refuses_a_vocabulary_cut_shorter(self):
        with zipfile.ZipFile(self.path) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        config = json.loads(entries["config.json"])
        config["config"]["vocabulary"] = self.vocabulary[:10] + ["<eos>"]
        entries["config.json"] = json.dumps(config).encode()
        with zipfile.ZipFile(self.path, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        with self.assertRaises(reader.DataError) as raised:
            language_model.load(self.path)
        self.assertEqual(
            str(raised.exception),
            f"{self.path} is damaged (the vocabulary has 11 words and the model was trained "
            "with 20); train again, or pass another --model.",
        )

    def test_load_refuses_another_kind_of_model(self):
        other = os.path.join(self.get_temp_dir(), "other.keras")
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(other)
        with self.assertRaises(reader.DataError) as raised:
            language_model.load(other)
        self.assertEqual(
            str(raised.exception),
            f"{other} holds a Sequential, not a model saved by ptb_rnn's training; train "
            "again, or pass another --model.",
        )

    def test_a_model_removed_after_the_tool_found_it_is_said_to_be_rewritten(self):
        # What --restart does to WORKDIR/model.keras while evaluate is starting.
        os.remove(self.path)
        with self.assertRaises(reader.DataError) as raised:
            language_model.load(self.path)
        self.assertEqual(
            str(raised.exception),
            f"{self.path} was removed or rewritten while it was being read (is a training run "
            "rewriting its work directory, e.g. with --restart?); run the same command again "
            "once the model is written.",
        )


# Loads a model.keras with `ptb_rnn.load_model` in a fresh process, and prints its
# log-probabilities for ids 1, 2, 3 as JSON.
LOAD_SCRIPT = """
import json, sys
import ptb_rnn
assert "keras" not in sys.modules and "tensorflow" not in sys.modules  # a light package
model = ptb_rnn.load_model(sys.argv[1])
log_probs, _ = model.log_probs([[1, 2, 3]], model.zero_state(1))
print(json.dumps(log_probs.numpy().tolist()))
"""


class LoadModelTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.get_temp_dir(), "model.keras")
        self.lm = tiny_language_model(["<eos>", "a", "b", "c"])
        self.lm.save(self.path)

    def assert_loads_in_a_new_process(self):
        result = subprocess.run(
            [sys.executable, "-c", LOAD_SCRIPT, self.path],
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        expected, _ = self.lm.log_probs(np.array([[1, 2, 3]]), self.lm.zero_state(1))
        np.testing.assert_array_equal(json.loads(result.stdout), expected.numpy())

    def test_load_model_needs_nothing_else_imported(self):
        self.assert_loads_in_a_new_process()

    def test_a_file_saved_when_the_modules_were_flat_still_loads(self):
        # Files written before the model/ package name the classes' modules ptb_rnn.model
        # and ptb_rnn.language_model; Keras finds them by their registered names.
        with zipfile.ZipFile(self.path) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        config = entries["config.json"].decode()
        self.assertIn('"ptb_rnn.model.network"', config)
        config = config.replace('"ptb_rnn.model.network"', '"ptb_rnn.model"')
        config = config.replace('"ptb_rnn.model.language_model"', '"ptb_rnn.language_model"')
        entries["config.json"] = config.encode()
        with zipfile.ZipFile(self.path, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        self.assert_loads_in_a_new_process()


if __name__ == "__main__":
    tf.test.main()
