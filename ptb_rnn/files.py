"""What a training run writes in its work directory, and how a file is written safely.

    workdir/
      .lock             held (flock) by the run using the directory; one run at a time
      results.json      the run's history (history.py) and identity, written at the end
      model.weights.h5  the final weights, for `model.load_weights`
      model.keras       the final model with its vocabulary, for `keras.saving.load_model`
                        (language_model.py); what evaluate, sample and export read
      tensorboard/      scalars during training and at its end (callbacks.Summaries)
      checkpoints/      run.json (the run's identity) and tf.train.CheckpointManager files
      error.log         the traceback of an internal error, if one happened
      saved_model/      the SavedModel, if export.py was given --output=WORKDIR/saved_model

Every file is written under a temporary name beside its final path and then renamed into
place, so a crash never leaves a half-written file under the final name. What a path
names is respected: a symlink is followed (its target is replaced, the link stays), and
a device or a FIFO (/dev/null, a pipe) is written in place, never replaced by a regular
file. A tool checks its output files before any work (`check_output`), and refuses one
that is also one of its inputs.

A work directory belongs to one run, named by its identity (`RunSpec.identity`): the
identity is recorded in run.json when training starts and in results.json when it ends,
and `check_same_run` refuses a directory that holds another run's files.

This module does not import TensorFlow.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator

from ptb_rnn.config import ConfigError
from ptb_rnn.spec import UNRECORDED

RESULTS_FILE = "results.json"
WEIGHTS_FILE = "model.weights.h5"
MODEL_FILE = "model.keras"
SUMMARY_DIR = "tensorboard"
CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"  # in CHECKPOINT_DIR: the identity of the run the checkpoints belong to
LOCK_FILE = ".lock"
ERROR_LOG = "error.log"
SAVED_MODEL_DIR = "saved_model"

START_OVER = "pass --restart to start over there, or choose another --workdir."


class WorkdirError(ConfigError):
    """The work directory cannot be used as it is, with what to do about it."""


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yields the path to write path's new contents to; they are in place once the block ends.

    For a regular file (or none yet): a temporary path beside it, renamed to it if the
    block succeeds and removed if it fails. The temporary name keeps the file name as its
    end (`.weights.h5`, `.png`), for writers that look at the extension. A symlink is
    followed: its target is written so, and the link stays. A device or a FIFO (e.g.
    /dev/null) cannot be replaced without destroying it, so path itself is yielded.

    Raises:
      WorkdirError: the file could not be written (e.g. the disk is full); a regular
        file is as it was.
    """
    if _is_special(path):
        try:
            yield path
        except OSError as e:
            raise _write_error(path, e) from None
        return
    directory, name = os.path.split(os.path.realpath(path))
    temporary = None
    try:
        os.makedirs(directory, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{name}", dir=directory)
        os.close(descriptor)
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, os.path.join(directory, name))
    except OSError as e:
        raise _write_error(path, e) from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)


def _is_special(path: str) -> bool:
    """Whether path (its symlinks followed) is something other than a file or a directory:
    a device, a FIFO or a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write_error(path: str, error: OSError) -> WorkdirError:
    return WorkdirError(
        f"cannot write {path}: {error.strerror or error}; fix that (e.g. free some disk "
        "space) and run the same command again."
    )


def check_output(
    path: str | None,
    flag: str,
    example: str,
    inputs: Iterable[tuple[str, str]] = (),
    suffix: str | None = None,
) -> None:
    """Refuses an output file a tool could not write, before the tool does any work.

    Args:
      path: the file the tool will write (`atomic_path`), as given.
      flag: the flag that named it, for the message.
      example: a file name to suggest, e.g. "per_word.jsonl".
      inputs: what the tool reads, (flag, path) pairs (e.g. ("--text_file", "my.txt")):
        the output must be none of them, under any name (a link, a relative path).
      suffix: the end the file name must have (e.g. ".png"), if any.

    Raises:
      WorkdirError: path is empty, a directory, lacks suffix, is one of inputs, or its
        directory cannot be written.
    """
    if not path:
        raise WorkdirError(f"{flag} is empty; give a file name, e.g. {flag}={example}.")
    if os.path.isdir(path):
        raise WorkdirError(
            f"{flag}={path} is a directory; give a file name, e.g. "
            f"{flag}={os.path.join(path, example)}."
        )
    if suffix is not None and not path.endswith(suffix):
        raise WorkdirError(
            f"{flag}={path} does not end in {suffix}; give a {suffix} file name, e.g. "
            f"{flag}={example}."
        )
    if _is_special(path):
        return  # written in place: its directory needs no new file
    for input_flag, input_path in inputs:
        if (
            os.path.isfile(path)
            and os.path.isfile(input_path)
            and os.path.samefile(path, input_path)
        ):
            raise WorkdirError(
                f"{flag}={path} is the file {input_flag} reads ({input_path}); writing it "
                f"would destroy it, give another {flag}."
            )
    check_writable(os.path.dirname(os.path.realpath(path)), flag=flag, value=path)


def staging_path(path: str) -> str:
    """Where a directory is written before it is renamed to path: .tmp-PID-NAME beside it.

    The process id in the name lets `remove_stale_staging` tell a directory still being
    written from one left by a process that was killed.
    """
    parent, name = os.path.split(os.path.abspath(path))
    return os.path.join(parent, f".tmp-{os.getpid()}-{name}")


def remove_stale_staging(path: str) -> None:
    """Deletes the `staging_path`s of path left by processes that no longer run."""
    parent, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(parent):
        return
    pattern = re.compile(rf"\.tmp-(\d+)-{re.escape(name)}")
    for entry in os.listdir(parent):
        match = pattern.fullmatch(entry)
        if match and not _running(int(match.group(1))):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether a process with this id runs (signal 0 checks, and sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


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


def read_json(path: str, advice: str = START_OVER):
    """The JSON value in path, or None if there is no such file.

    Raises:
      WorkdirError: the file exists but is not JSON (e.g. truncated); the message ends
        with advice.
    """
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WorkdirError(f"{path} is damaged ({e}); {advice}") from None


@contextlib.contextmanager
def locked(workdir: str) -> Iterator[None]:
    """Holds workdir's lock: one run at a time in a work directory.

    The lock is an `fcntl.flock` on workdir/.lock, which the operating system releases
    when the process ends, however it ends; the file itself stays.

    Raises:
      WorkdirError: another process holds the lock.
    """
    os.makedirs(workdir, exist_ok=True)
    descriptor = os.open(os.path.join(workdir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
            raise WorkdirError(
                f"{workdir} is in use by another run (process {holder or 'unknown'}); wait "
                "for it to end, or choose another --workdir."
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def start_over(workdir: str) -> None:
    """Deletes what an earlier run wrote in workdir: checkpoints, summaries, results, and
    the SavedModel exported from its model."""
    for name in (CHECKPOINT_DIR, SUMMARY_DIR, SAVED_MODEL_DIR):
        if os.path.isdir(os.path.join(workdir, name)):
            shutil.rmtree(os.path.join(workdir, name))
    for name in (RESULTS_FILE, WEIGHTS_FILE, MODEL_FILE, ERROR_LOG):
        if os.path.isfile(os.path.join(workdir, name)):
            os.remove(os.path.join(workdir, name))
    remove_stale_staging(os.path.join(workdir, SAVED_MODEL_DIR))


def differences(saved: dict, identity: dict) -> list[str]:
    """How a recorded identity differs from identity, e.g. ["seed 1 there, 0 here"].

    A config or truncation field missing from an older record reads as None, its
    default; a setting an identity leaves out has its `spec.UNRECORDED` value.
    """
    differences = []
    for part in ("config", "truncation"):
        for name, value in identity[part].items():
            there = (saved.get(part) or {}).get(name)
            if there != value:
                differences.append(f"{name} {there} there, {value} here")
    for name in dict.fromkeys([*identity, *UNRECORDED]):
        there, here = (record.get(name, UNRECORDED.get(name)) for record in (saved, identity))
        if name in ("config", "truncation") or there == here:
            continue
        if name == "corpus_sha256":
            differences.append("another corpus")
        else:
            differences.append(f"{name} {there} there, {here} here")
    return differences


def _has_checkpoints(workdir: str) -> bool:
    """Whether workdir/checkpoints holds anything besides run.json."""
    checkpoints = os.path.join(workdir, CHECKPOINT_DIR)
    return os.path.isdir(checkpoints) and bool(set(os.listdir(checkpoints)) - {RUN_FILE})


def check_same_run(workdir: str, identity: dict, advice: str = START_OVER) -> None:
    """Refuses a work directory holding another run's checkpoints or results.

    Args:
      workdir: a work directory about to be trained in.
      identity: `RunSpec.identity` of the run that would train there.
      advice: what the message says to do about it.

    Raises:
      WorkdirError: checkpoints/ or results.json are there with another identity, or
        with none recorded, or the files recording it are damaged.
    """
    checkpoints = os.path.join(workdir, CHECKPOINT_DIR)
    run = read_json(os.path.join(checkpoints, RUN_FILE))
    results = read_json(os.path.join(workdir, RESULTS_FILE))
    for what, present, saved in (
        ("checkpoints", _has_checkpoints(workdir) or run is not None, run),
        (f"the {RESULTS_FILE}", results is not None, (results or {}).get("identity")),
    ):
        if not present:
            continue
        found = differences(saved, identity) if saved else ["it records no identity"]
        if found:
            raise WorkdirError(
                f"{workdir} holds {what} of a different run ({', '.join(found)}); {advice}"
            )


def check_run_length(workdir: str, num_epochs: int) -> None:
    """Refuses to shorten a finished run, or to extend one that cannot continue.

    A finished run (results.json) of fewer than num_epochs epochs is extended from its
    last checkpoint, saved at the end of its last epoch; call `check_same_run` first.

    Args:
      workdir: a work directory about to be trained in.
      num_epochs: the epochs of the run that would train there (max_max_epoch).

    Raises:
      WorkdirError: results.json records more epochs than num_epochs, or fewer and
        there is no checkpoint to continue from.
    """
    results = read_json(os.path.join(workdir, RESULTS_FILE))
    if results is None:
        return
    done = len(results.get("train_perplexity", []))
    if done > num_epochs:
        raise WorkdirError(
            f"{workdir} holds a finished run of {done} epochs, more than max_max_epoch "
            f"{num_epochs}; pass --max_max_epoch={done} to keep it (or more to extend it), "
            "--restart to start over there, or choose another --workdir."
        )
    if done < num_epochs and not _has_checkpoints(workdir):
        raise WorkdirError(
            f"{workdir} holds a finished run of {done} epochs and no checkpoints to extend "
            f"it to {num_epochs} from; pass --max_max_epoch={done} to keep it, --restart to "
            "start over there, or choose another --workdir."
        )


def write_identity(workdir: str, identity: dict) -> None:
    """Records which run the checkpoints in workdir belong to."""
    write_json(os.path.join(workdir, CHECKPOINT_DIR, RUN_FILE), identity)


def check_writable(path: str, flag: str = "--workdir", value: str | None = None) -> None:
    """Refuses a directory that cannot be created or written, without creating it.

    Writing is tried for real (a nameless temporary file, gone when closed): `os.access`
    says yes to root under /proc or /sys, where nothing can be created.

    Args:
      path: a directory to be written in.
      flag: the flag that named it, for the message.
      value: the flag's value as given, for the message, if not path (a file in it).

    Raises:
      WorkdirError: path is empty, or the nearest existing directory at or above it is
        a file or cannot be written.
    """
    if not path:
        raise WorkdirError(f"{flag} is empty; give a directory, e.g. {flag}=runs/small.")
    value = path if value is None else value
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise WorkdirError(
            f"cannot use {flag}={value}: {existing} is a file, not a directory; "
            f"choose another {flag}."
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        raise WorkdirError(
            f"cannot use {flag}={value}: nothing can be written in {existing} "
            f"({e.strerror}); choose another {flag}."
        ) from None


def check_workdir(workdir: str) -> None:
    """`check_writable` for --workdir, and the run's subdirectories not files.

    Raises:
      WorkdirError: what is wrong, and what to do.
    """
    check_writable(workdir)
    for name in (CHECKPOINT_DIR, SUMMARY_DIR):
        inside = os.path.join(workdir, name)
        if os.path.exists(inside) and not os.path.isdir(inside):
            raise WorkdirError(
                f"cannot use --workdir={workdir}: {inside} is a file where the run keeps a "
                "directory; move it away, or choose another --workdir."
            )
