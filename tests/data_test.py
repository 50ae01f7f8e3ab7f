import os
import subprocess
import sys
import unittest
from unittest import mock

import helpers
import numpy as np
from absl.testing import absltest

from ptb_rnn import data, reader


class VerifyTest(absltest.TestCase):
    def test_checksums_file_names_the_three_files(self):
        self.assertEqual(
            sorted(data.expected_checksums()), ["ptb.test.txt", "ptb.train.txt", "ptb.valid.txt"]
        )
        self.assertEqual(data.expected_checksums()["ptb.valid.txt"][0], 399782)

    def test_missing_files_are_named(self):
        with self.assertRaisesRegex(
            reader.DataError, "lacks ptb.train.txt, ptb.valid.txt, ptb.test.txt"
        ):
            data.verify_ptb_dir(self.create_tempdir().full_path)

    @unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
    def test_truncated_file_is_refused(self):
        copy = helpers.truncated_ptb_copy(self.create_tempdir().full_path)
        with self.assertRaisesRegex(
            reader.DataError, r"ptb.test.txt is not the original PTB file \(1000 bytes"
        ):
            data.verify_ptb_dir(copy)


class DefaultDataDirTest(absltest.TestCase):
    def test_is_tfds_own_default(self):
        from tensorflow_datasets.core import constants

        with mock.patch.dict(os.environ):
            os.environ.pop("TFDS_DATA_DIR", None)
            expected = os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
            self.assertEqual(data.default_data_dir(), expected)
            self.assertEqual(constants.get_default_data_dir(), expected)
            os.environ["TFDS_DATA_DIR"] = "/srv/datasets"
            self.assertEqual(data.default_data_dir(), "/srv/datasets")
            self.assertEqual(constants.get_default_data_dir(), "/srv/datasets")


@unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
class RoutesTest(absltest.TestCase):
    def test_tfds_and_direct_reading_give_identical_ids(self):
        through_tfds = data.load_ptb(self.create_tempdir().full_path, ptb_dir=helpers.PTB_DIR)
        direct = reader.load_corpus(helpers.PTB_DIR)
        self.assertEqual(through_tfds.word_to_id, direct.word_to_id)
        for split in reader.SPLITS:
            np.testing.assert_array_equal(getattr(through_tfds, split), getattr(direct, split))
        self.assertLen(through_tfds.train, 929589)

    def test_the_command_writes_nothing_where_it_is_run_and_says_where_it_wrote(self):
        here = self.create_tempdir().full_path
        tfds_dir = os.path.join(self.create_tempdir().full_path, "tfds")
        result = subprocess.run(
            [sys.executable, "-m", "ptb_rnn.data", f"--ptb_dir={os.path.abspath(helpers.PTB_DIR)}"],
            capture_output=True,
            text=True,
            cwd=here,
            env={**os.environ, "TFDS_DATA_DIR": tfds_dir},
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(here), [])
        prepared = os.path.join(tfds_dir, "ptb", "1.0.0")
        self.assertIn(f"PTB: the TFDS dataset prepared in {prepared}.", result.stderr)
        self.assertTrue(os.path.isfile(os.path.join(prepared, "dataset_info.json")))


if __name__ == "__main__":
    absltest.main()
