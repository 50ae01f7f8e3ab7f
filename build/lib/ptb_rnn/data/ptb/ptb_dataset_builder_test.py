"""The TFDS builder on its dummy data (made-up lines, not PTB)."""

import tensorflow_datasets as tfds

from ptb_rnn.data.ptb import ptb_dataset_builder


class PtbDatasetBuilderTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = ptb_dataset_builder.Builder
    SPLITS = {"train": 4, "validation": 2, "test": 1}  # lines in dummy_data/*.txt
    DL_EXTRACT_RESULT = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}


if __name__ == "__main__":
    tfds.testing.test_main()
