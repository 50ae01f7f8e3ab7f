import unittest

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


@unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
class RoutesTest(absltest.TestCase):
    def test_tfds_and_direct_reading_give_identical_ids(self):
        through_tfds = data.load_ptb(self.create_tempdir().full_path, ptb_dir=helpers.PTB_DIR)
        direct = reader.load_corpus(helpers.PTB_DIR)
        self.assertEqual(through_tfds.word_to_id, direct.word_to_id)
        for split in reader.SPLITS:
            np.testing.assert_array_equal(getattr(through_tfds, split), getattr(direct, split))
        self.assertLen(through_tfds.train, 929589)


if __name__ == "__main__":
    absltest.main()
