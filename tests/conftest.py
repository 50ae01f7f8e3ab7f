"""Lets absltest and absl flags work under pytest, which does not parse absl flags."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402


def pytest_configure(config):
    del config
    flags.FLAGS.mark_as_parsed()
