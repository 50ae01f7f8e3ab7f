"""The SavedModel for serving: loaded with TensorFlow alone, the same log-probabilities."""

import json
import os
import subprocess
import sys

import helpers
import keras
import numpy as np
import tensorflow as tf

from ptb_rnn.model import language_model, serving
from ptb_rnn.model.language_model import LanguageModel
from ptb_rnn.model.network import PTBModel

VOCABULARY = ["<eos>", "a", "b", "c", "<unk>"]
WORDS = [["a", "b", "zebra"], ["c", "<eos>", "a"]]  # "zebra" is read as <unk>

# Runs in a new process that imports TensorFlow only: the state from initial_state, the
# words in two calls (2 words, then 1) with the state carried, and their ids in one call.
# Arguments: the SavedModel, the words and their ids as JSON, where to write the outputs.
SERVE_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf

served = tf.saved_model.load(sys.argv[1])
words = tf.constant(json.loads(sys.argv[2]))
state = served.signatures["initial_state"](batch_size=tf.constant(2))
first = served.signatures["step"](words=words[:, :2], **state)
second = served.signatures["step"](words=words[:, 2:], **{k: first[k] for k in state})
by_ids = served.signatures["step_ids"](ids=tf.constant(json.loads(sys.argv[3])), **state)
np.savez(
    sys.argv[4],
    log_probs=np.concatenate([first["log_probs"], second["log_probs"]], axis=1),
    by_ids=by_ids["log_probs"],
    **{name: second[name] for name in state},
)
print(json.dumps({
    "ptb_rnn_imported": any(name.startswith("ptb_rnn") for name in sys.modules),
    "signatures": sorted(served.signatures),
    "step_inputs": sorted(served.signatures["step"].structured_input_signature[1]),
    "vocabulary": served.signatures["vocabulary"]()["words"].numpy().astype(str).tolist(),
}))
"""


class ServingTest(tf.test.TestCase):
    def test_state_names(self):
        self.assertEqual(serving.state_names(2), ["h0", "c0", "h1", "c1"])

    def test_the_saved_model_gives_the_models_log_probs_without_ptb_rnn(self):
        lm = LanguageModel(helpers.tiny_model(batch_size=2, seed=0, init_scale=1.0), VOCABULARY)
        # What `python -m ptb_rnn.export` does: the model.keras file loaded, then exported.
        saved = os.path.join(self.get_temp_dir(), "model.keras")
        lm.save(saved)
        directory = os.path.join(self.get_temp_dir(), "saved_model")
        serving.export(language_model.load(saved), directory)
        ids = np.stack([lm.words_to_ids(row) for row in WORDS])
        outputs = os.path.join(self.get_temp_dir(), "outputs.npz")
        arguments = [directory, json.dumps(WORDS), json.dumps(ids.tolist()), outputs]
        result = subprocess.run(
            [sys.executable, "-c", SERVE_SCRIPT, *arguments],
            capture_output=True,
            text=True,
            cwd=self.get_temp_dir(),
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertFalse(report["ptb_rnn_imported"])
        self.assertEqual(
            report["signatures"],
            ["initial_state", "serving_default", "step", "step_ids", "vocabulary"],
        )
        self.assertEqual(report["step_inputs"], ["c0", "c1", "h0", "h1", "words"])
        self.assertEqual(report["vocabulary"], VOCABULARY)

        # The model before saving, eagerly, all three words in one call from the zero state.
        # The signatures' windows have no static length, so their LSTM runs Keras's loop
        # rather than the unrolled one (lstm.py): the same arithmetic, in another order.
        expected, state = lm.log_probs(ids, lm.zero_state(2))
        served = np.load(outputs)
        self.assertEqual(served["log_probs"].shape, (2, 3, 20))
        self.assertAllClose(served["log_probs"], expected, rtol=1e-6, atol=1e-6)
        self.assertAllClose(served["by_ids"], expected, rtol=1e-6, atol=1e-6)
        for name, tensor in zip(serving.state_names(2), [t for pair in state for t in pair]):
            self.assertAllClose(served[name], tensor, rtol=1e-6, atol=1e-6)


def export_tiny(directory, vocabulary, precision="float32"):
    """Exports a LanguageModel of `helpers.tiny_config` (2 layers of 6 units, 20 softmax
    outputs) with vocabulary to directory; returns the model."""
    keras.utils.set_random_seed(0)
    network = PTBModel(helpers.tiny_config(init_scale=1.0), precision=precision).build_for(1)
    lm = LanguageModel(network, vocabulary)
    serving.export(lm, directory)
    return lm


def run_tflite(path, ids):
    """Feeds ids (one row) to the TFLite model one per call from the zero state, the state
    carried; returns the log-probabilities (1, len(ids), 20) and the final state."""
    interpreter = tf.lite.Interpreter(model_path=path)
    step_one = interpreter.get_signature_runner("step_one")
    state = {name: np.zeros([1, 6], np.float32) for name in serving.state_names(2)}
    log_probs = []
    for word_id in ids:
        out = step_one(ids=np.array([[word_id]], np.int32), **state)
        log_probs.append(out["log_probs"])  # (1, 1, 20)
        state = {name: out[name] for name in state}
    return np.concatenate(log_probs, axis=1), state


class PhoneModelTest(tf.test.TestCase):
    """model.tflite and vocabulary.txt, beside the SavedModel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.directory = os.path.join(tf.compat.v1.test.get_temp_dir(), "phone", "saved_model")
        export_tiny(cls.directory, VOCABULARY)

    def test_the_tflite_model_gives_the_saved_models_log_probs(self):
        ids = [1, 2, 4, 0]  # a b <unk> <eos>
        log_probs, state = run_tflite(os.path.join(self.directory, "model.tflite"), ids)
        served = tf.saved_model.load(self.directory)
        zero = served.signatures["initial_state"](batch_size=tf.constant(1))
        expected = served.signatures["step_ids"](ids=tf.constant([ids]), **zero)
        self.assertEqual(log_probs.shape, (1, 4, 20))
        self.assertAllClose(log_probs, expected["log_probs"], rtol=1e-5, atol=1e-5)
        for name in serving.state_names(2):
            self.assertAllClose(state[name], expected[name], rtol=1e-5, atol=1e-5)

    def test_the_tflite_model_has_builtin_ops_only(self):
        interpreter = tf.lite.Interpreter(os.path.join(self.directory, "model.tflite"))
        ops = {op["op_name"] for op in interpreter._get_ops_details()}
        self.assertNotIn("WHILE", ops)  # the time loop, unrolled for one word
        self.assertEqual([op for op in ops if op.startswith("Flex") or op == "CUSTOM"], [])

    def test_the_tflite_signature(self):
        interpreter = tf.lite.Interpreter(os.path.join(self.directory, "model.tflite"))
        self.assertEqual(
            interpreter.get_signature_list(),
            {
                "step_one": {
                    "inputs": ["c0", "c1", "h0", "h1", "ids"],
                    "outputs": ["c0", "c1", "h0", "h1", "log_probs"],
                }
            },
        )

    def test_vocabulary_txt_has_a_word_per_line_in_id_order(self):
        with open(os.path.join(self.directory, "vocabulary.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "<eos>\na\nb\nc\n<unk>\n")


class RefusedInputTest(tf.test.TestCase):
    """The signatures refuse what TensorFlow would broadcast, wrap or clip."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = os.path.join(tf.compat.v1.test.get_temp_dir(), "refused", "saved_model")
        export_tiny(directory, ["<eos>", "a", "b"])  # no <unk>
        cls.served = tf.saved_model.load(directory)

    def state(self, batch_size):
        return self.served.signatures["initial_state"](batch_size=tf.constant(batch_size))

    def test_a_state_for_another_batch_size(self):
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"h0 must have one row per row of words"
        ):
            self.served.signatures["step"](words=tf.constant([["a"]]), **self.state(3))

    def test_a_state_for_another_batch_size_with_ids(self):
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"h0 must have one row per row of ids"
        ):
            self.served.signatures["step_ids"](ids=tf.constant([[1], [2]]), **self.state(1))

    def test_a_negative_id(self):
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"ids must be in \[0, 3\), the ids of the vocabulary"
        ):
            self.served.signatures["step_ids"](ids=tf.constant([[1, -1]]), **self.state(1))

    def test_an_id_past_the_vocabulary(self):
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"ids must be in \[0, 3\), the ids of the vocabulary"
        ):
            self.served.signatures["step_ids"](ids=tf.constant([[3]]), **self.state(1))

    def test_the_last_id_is_accepted(self):
        out = self.served.signatures["step_ids"](ids=tf.constant([[2]]), **self.state(1))
        self.assertEqual(out["log_probs"].shape, (1, 1, 20))

    def test_an_unknown_word_without_unk(self):
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"a word is not in the vocabulary, which has no <unk>"
        ):
            self.served.signatures["step"](words=tf.constant([["a", "zebra"]]), **self.state(1))


class MixedBfloat16Test(tf.test.TestCase):
    def test_the_tflite_model_computes_in_float32(self):
        directory = os.path.join(self.get_temp_dir(), "saved_model")
        lm = export_tiny(directory, VOCABULARY, precision="mixed_bfloat16")
        ids = [1, 2, 3]
        log_probs, _ = run_tflite(os.path.join(directory, "model.tflite"), ids)
        float32 = serving.float32_copy(lm)
        self.assertEqual(float32.network.precision, "float32")
        expected, _ = float32.log_probs([ids], float32.zero_state(1))
        self.assertAllClose(log_probs, expected, rtol=1e-5, atol=1e-5)
        bfloat16, _ = lm.log_probs([ids], lm.zero_state(1))
        self.assertNotAllClose(log_probs, bfloat16, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
    tf.test.main()
