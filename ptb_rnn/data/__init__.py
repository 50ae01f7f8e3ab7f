"""Gets a corpus: PTB through TFDS (downloaded or from local files), or any directory.

Two routes give a `reader.Corpus`:

* `load_ptb(data_dir=None, ptb_dir=None)`: the TFDS builder in `ptb_rnn/data/ptb`.
  Without `ptb_dir` it downloads the three files (TFDS checks them against
  `checksums.tsv`); with `ptb_dir` it reads the original files from there after
  checking the same checksums, with no download attempted. Either way TFDS writes the
  prepared dataset (7.4 MB for PTB) under data_dir, by default where TFDS keeps every
  dataset (`default_data_dir`: $TFDS_DATA_DIR, else ~/tensorflow_datasets), never in
  the current directory; the log says where.
* `reader.load_corpus(data_path)`: any directory in the tutorial's layout, read as
  the tutorial's reader does, with no checksum.

Both build the vocabulary and ids with the same reader functions, so on PTB they
give identical ids.
"""

import glob
import hashlib
import os
import urllib.request

from absl import logging

from ptb_rnn import files, reader

# The TFDS builder's checksums; read without importing TFDS (see `load_ptb`).
CHECKSUMS_PATH = os.path.join(os.path.dirname(__file__), "ptb", "checksums.tsv")
TFDS_SPLITS = {"train": "train", "valid": "validation", "test": "test"}


def default_data_dir() -> str:
    """Where TFDS keeps prepared datasets unless told otherwise: $TFDS_DATA_DIR, else
    ~/tensorflow_datasets (`tfds.core.constants.get_default_data_dir`, read here without
    importing TFDS, which imports TensorFlow)."""
    return os.environ.get(
        "TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
    )


def expected_checksums() -> dict[str, tuple[int, str]]:
    """File name -> (size in bytes, SHA-256) from the builder's `checksums.tsv`."""
    checksums = {}
    with open(CHECKSUMS_PATH) as f:
        for line in f:
            _, size, sha256, filename = line.split("\t")
            checksums[filename.strip()] = (int(size), sha256)
    return checksums


def download_urls() -> list[str]:
    """The URLs TFDS downloads the three files from (the first column of checksums.tsv)."""
    with open(CHECKSUMS_PATH) as f:
        return [line.split("\t")[0] for line in f if line.strip()]


def verify_ptb_dir(ptb_dir: str) -> None:
    """Checks that ptb_dir holds the three original PTB files, unchanged.

    Raises:
      reader.DataError: a file is missing or differs from the original.
    """
    checksums = expected_checksums()
    needs = (
        "--ptb_dir needs the original ptb.train.txt, ptb.valid.txt and ptb.test.txt (the "
        f"data/ folder of {reader.PTB_ARCHIVE}), or leave it out to download them."
    )
    if not os.path.isdir(ptb_dir):
        raise reader.DataError(f"{ptb_dir} is not a directory; {needs}")
    missing = [name for name in checksums if not os.path.isfile(os.path.join(ptb_dir, name))]
    if missing:
        raise reader.DataError(f"{ptb_dir} lacks {', '.join(missing)}; {needs}")
    for name, (size, sha256) in checksums.items():
        path = os.path.join(ptb_dir, name)
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if digest != sha256:
            raise reader.DataError(
                f"{path} is not the original PTB file ({os.path.getsize(path)} bytes, "
                f"expected {size} with SHA-256 {sha256[:12]}...); it is truncated or "
                "modified, replace it with a fresh copy, or use --data_path for your "
                "own text."
            )


def check_download_reachable(timeout_seconds: float = 10) -> None:
    """Fails fast, with the offline routes, when the PTB files cannot be downloaded.

    Raises:
      reader.DataError: the first file's URL does not answer within timeout_seconds
        (TFDS would retry for minutes and end in a traceback).
    """
    url = download_urls()[0]
    try:
        request = urllib.request.Request(url, method="HEAD")
        urllib.request.urlopen(request, timeout=timeout_seconds).close()
    except (OSError, ValueError) as e:  # URLError, timeouts and HTTP errors are OSErrors
        reason = getattr(e, "reason", None) or e
        raise reader.DataError(
            f"cannot reach {url} to download PTB ({reason}); without network pass "
            "--ptb_dir=DIR with the original PTB files (make train PTB_DIR=DIR), or "
            "--data_path=DIR with any corpus in the tutorial's layout."
        ) from None


def load_ptb(
    data_dir: str | None = None, ptb_dir: str | None = None, progress_bar: bool = True
) -> reader.Corpus:
    """PTB through the TFDS builder, prepared under data_dir.

    Args:
      data_dir: where TFDS keeps the prepared dataset and its downloads; None:
        `default_data_dir()`.
      ptb_dir: a directory with the original files; None downloads them.
      progress_bar: show TFDS's download and preparation bars.

    Raises:
      reader.DataError: ptb_dir's files are missing or not the originals, or (without
        ptb_dir) the download URL does not answer.
      files.WorkdirError: the dataset is not prepared yet and data_dir cannot be written.
    """
    data_dir = default_data_dir() if data_dir is None else data_dir
    prepared = glob.glob(os.path.join(data_dir, "ptb", "*", "dataset_info.json"))
    if not prepared:
        files.check_writable(data_dir, "--data_dir")
    if ptb_dir is not None:
        verify_ptb_dir(ptb_dir)
    elif not prepared:
        check_download_reachable()
    # Imported only now, after the checks: TFDS imports TensorFlow, which writes
    # start-up lines to stderr, and a bad --ptb_dir should end in one line.
    import tensorflow_datasets as tfds

    from ptb_rnn.data.ptb import ptb_dataset_builder

    if not progress_bar:
        tfds.disable_progress_bar()
    download_config = None
    if ptb_dir is not None:
        download_config = tfds.download.DownloadConfig(manual_dir=ptb_dir)
    builder = ptb_dataset_builder.Builder(data_dir=data_dir)
    builder.download_and_prepare(download_config=download_config)
    logging.info(
        "PTB: the TFDS dataset %s in %s.",
        "read" if prepared else "prepared",
        os.path.abspath(builder.data_dir),
    )
    split_words = {}
    for split, tfds_split in TFDS_SPLITS.items():
        lines = tfds.as_numpy(builder.as_dataset(split=tfds_split, shuffle_files=False))
        text = "".join(example["text"].decode("utf-8") for example in lines)
        split_words[split] = reader.text_to_words(text)
    return reader.corpus_from_words(split_words)
