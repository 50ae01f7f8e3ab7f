"""Each tool's --help, as a user reads it: every flag the tool uses, in its group."""

import os
import re
import subprocess
import sys

import helpers
from absl.testing import absltest, parameterized

CONFIG = "config (ptb_rnn/config.py: a preset, any of its fields overridden)"
TRUNCATION = "truncation (ptb_rnn/truncation.py: the window length and the state)"
RUN = "run (ptb_rnn/spec.py: how the model computes, and where)"
TRAINING = "training (ptb_rnn/spec.py: the seed, checkpoints and measurements of a run)"
DATA = "data (ptb_rnn/data/: where the corpus comes from)"
MODEL = "model (a trained model)"
OWN = "this tool's own"

CONFIG_FLAGS = [
    "batch_size", "config", "hidden_size", "init_scale", "keep_prob", "learning_rate",
    "lr_decay", "max_epoch", "max_grad_norm", "max_max_epoch", "num_layers", "num_steps",
    "vocab_size",
]  # fmt: skip
TRUNCATION_FLAGS = ["carry_state", "mode", "truncation_schedule"]
RUN_FLAGS = [
    "cpu_devices", "fused_lstm", "initializer", "precision", "softmax", "strategy",
    "windows_per_call",
]  # fmt: skip
TRAINING_FLAGS = ["checkpoint_every_steps", "curve_points_per_epoch", "deterministic", "seed"]
DATA_FLAGS = ["data_dir", "data_path", "ptb_dir"]

# tool -> {group: its flags, in the order --help lists them}
EXPECTED = {
    "train": {
        CONFIG: CONFIG_FLAGS,
        TRUNCATION: TRUNCATION_FLAGS,
        RUN: RUN_FLAGS,
        TRAINING: TRAINING_FLAGS,
        DATA: DATA_FLAGS,
        OWN: ["cluster_timeout", "restart", "workdir"],
    },
    "evaluate": {MODEL: ["model"], OWN: ["per_word", "text_file"]},
    "sample": {
        MODEL: ["model"],
        OWN: [
            "num_samples",
            "num_words",
            "prime",
            "prime_starts_sentence",
            "seed",
            "temperature",
            "top_k",
        ],
    },  # fmt: skip
    "export": {MODEL: ["model"], OWN: ["output"]},
    "shapes": {
        CONFIG: CONFIG_FLAGS,
        DATA: DATA_FLAGS,
        OWN: ["format", "output", "png", "text_file", "windows", "words"],
    },
    "bench": {
        CONFIG: CONFIG_FLAGS,
        RUN: RUN_FLAGS,
        OWN: [
            "calls",
            "compare",
            "configs",
            "jit_compile",
            "json",
            "matmul_size",
            "repeats",
            "rounds",
            "test_words",
            "train_words",
            "valid_words",
        ],
    },  # fmt: skip
    "experiments": {
        CONFIG: CONFIG_FLAGS,
        RUN: RUN_FLAGS,
        TRAINING: TRAINING_FLAGS,
        DATA: DATA_FLAGS,
        OWN: [
            "echo",
            "epochs",
            "full",
            "layout_batch_sizes",
            "layout_num_steps",
            "learning_rates",
            "measure_speeds",
            "modes",
            "output_dir",
            "second_seed_modes",
            "speed_batch_sizes",
            "speed_num_steps",
            "study",
            "train",
            "train_fraction",
        ],
    },  # fmt: skip
    "data": {DATA: DATA_FLAGS},
}
MODULES = {"data": "ptb_rnn.data", "evaluate": "ptb_rnn.evaluate", "shapes": "ptb_rnn.shapes"}


def flag_groups(help_text: str) -> dict[str, list[str]]:
    """The flags --help lists after its "flags:" line: group title -> flag names."""
    groups = {}
    for line in help_text.split("\nflags:\n", 1)[1].splitlines():
        if re.fullmatch(r"\S.*:", line):
            title = line[:-1]
            groups[title] = []
        elif flag := re.match(r"  --(?:\[no\])?(\w+):", line):
            groups[title].append(flag.group(1))
    return groups


def console_script(tool: str) -> str:
    """The path of the console script ptb-rnn-<tool> beside this Python."""
    return os.path.join(os.path.dirname(sys.executable), f"ptb-rnn-{tool}")


class HelpTest(parameterized.TestCase):
    def assert_help_lists(self, command, tool):
        result = subprocess.run(
            command, capture_output=True, text=True, cwd=helpers.ROOT, timeout=120
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(flag_groups(result.stdout), EXPECTED[tool])

    @parameterized.parameters(*EXPECTED)
    def test_python_m_help_lists_the_tools_flags_in_groups(self, tool):
        module = MODULES.get(tool, f"ptb_rnn.{tool}")
        self.assert_help_lists([sys.executable, "-m", module, "--help"], tool)

    @parameterized.parameters(*EXPECTED)
    def test_console_script_help_lists_the_same(self, tool):
        if not os.path.exists(console_script(tool)):
            self.skipTest(f"{console_script(tool)} is not installed")
        self.assert_help_lists([console_script(tool), "--help"], tool)

    def test_h_is_help(self):
        self.assert_help_lists([sys.executable, "-m", "ptb_rnn.sample", "-h"], "sample")


if __name__ == "__main__":
    absltest.main()
