"""Lets absltest and absl flags work under pytest, which does not parse absl flags."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# What the tests prepare through TFDS goes to a directory of their own (one per test
# process), not to the user's ~/tensorflow_datasets.
if "TFDS_DATA_DIR" not in os.environ:
    os.environ["TFDS_DATA_DIR"] = tempfile.mkdtemp(prefix="ptb_rnn_tests_tfds_")
    atexit.register(shutil.rmtree, os.environ["TFDS_DATA_DIR"], ignore_errors=True)

from absl import flags  # noqa: E402


def pytest_configure(config):
    del config
    flags.FLAGS.mark_as_parsed()
