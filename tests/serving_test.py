"""The SavedModel for serving: loaded with TensorFlow alone, the same log-probabilities."""

import json
import os
import subprocess
import sys

import helpers
import numpy as np
import tensorflow as tf

from ptb_rnn.model import language_model, serving
from ptb_rnn.model.language_model import LanguageModel

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


if __name__ == "__main__":
    tf.test.main()
