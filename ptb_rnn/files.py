"""What a training run writes in its work directory, and how a file is written safely.

    workdir/
      results.json      the run's history (history.py), written once, at the end
      model.weights.h5  the final weights, for `model.load_weights`
      tensorboard/      summaries per epoch
      checkpoints/      run.json (the run's identity) and tf.train.CheckpointManager files

Every file is written under a temporary name beside its final path and then renamed into
place, so a crash never leaves a half-written file under the final name.

This module does not import TensorFlow.
"""

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator

from ptb_rnn.config import ConfigError

RESULTS_FILE = "results.json"
WEIGHTS_FILE = "model.weights.h5"
SUMMARY_DIR = "tensorboard"
CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"  # in CHECKPOINT_DIR: the identity of the run the checkpoints belong to


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yields a temporary path beside path, renamed to path if the block succeeds.

    The temporary name keeps path's file name as its end (`.weights.h5`, `.png`), for
    writers that look at the extension. It is removed if the block fails.
    """
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{name}", dir=directory)
    os.close(descriptor)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str, text: str) -> None:
    """Writes text to path atomically."""
    with atomic_path(path) as temporary, open(temporary, "w") as f:
        f.write(text)


def write_json(path: str, obj) -> None:
    """Writes obj as indented JSON to path atomically."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


def read_json(path: str):
    """The JSON value in path, or None if there is no such file."""
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def start_over(workdir: str) -> None:
    """Deletes what an earlier run wrote in workdir: checkpoints, summaries, results."""
    for name in (CHECKPOINT_DIR, SUMMARY_DIR):
        if os.path.isdir(os.path.join(workdir, name)):
            shutil.rmtree(os.path.join(workdir, name))
    for name in (RESULTS_FILE, WEIGHTS_FILE):
        if os.path.isfile(os.path.join(workdir, name)):
            os.remove(os.path.join(workdir, name))


def check_same_run(workdir: str, identity: dict) -> None:
    """Refuses checkpoints in workdir that another run (config, data...) saved.

    Args:
      workdir: a work directory whose checkpoints are about to be resumed.
      identity: `RunSpec.identity` of the run that would resume them.

    Raises:
      ConfigError: the saved identity differs, or there is none.
    """
    saved = read_json(os.path.join(workdir, CHECKPOINT_DIR, RUN_FILE))
    if saved is None:
        what = f"no {RUN_FILE} to say which run they belong to"
    else:
        # A field missing from an older run.json reads as None, its default.
        differences = []
        for part in ("config", "truncation"):
            for name, value in identity[part].items():
                there = saved.get(part, {}).get(name)
                if there != value:
                    differences.append(f"{name} {there} there, {value} here")
        if saved.get("seed") != identity["seed"]:
            differences.append(f"seed {saved.get('seed')} there, {identity['seed']} here")
        if saved.get("corpus_sha256") != identity["corpus_sha256"]:
            differences.append("another corpus")
        if not differences:
            return
        what = ", ".join(differences)
    raise ConfigError(
        f"{workdir} holds checkpoints of a different run ({what}); pass --restart to "
        "start over there, or choose another --workdir."
    )


def write_identity(workdir: str, identity: dict) -> None:
    """Records which run the checkpoints in workdir belong to."""
    os.makedirs(os.path.join(workdir, CHECKPOINT_DIR), exist_ok=True)
    write_json(os.path.join(workdir, CHECKPOINT_DIR, RUN_FILE), identity)


def check_writable(path: str, flag: str = "--workdir") -> None:
    """Refuses a directory that cannot be created or written, without creating it.

    Args:
      path: a directory to be written in.
      flag: the flag that named it, for the message.

    Raises:
      ConfigError: the nearest existing directory at or above path is a file or is
        not writable.
    """
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ConfigError(
            f"cannot use {flag}={path}: {existing} is a file, not a directory; "
            f"choose another {flag}."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot use {flag}={path}: {existing} is not writable; choose another {flag}."
        )
