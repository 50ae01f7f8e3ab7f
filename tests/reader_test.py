import unittest

import helpers
import numpy as np
from absl.testing import absltest

from ptb_rnn import reader


class ProducerTest(absltest.TestCase):
    # The tutorial's reader_test: 15 ids, batch_size 3, num_steps 2.
    RAW = [4, 3, 2, 1, 0, 5, 6, 1, 1, 1, 1, 0, 3, 4, 1]

    def test_golden_windows(self):
        batches = reader.ptb_producer(self.RAW, batch_size=3, num_steps=2)
        self.assertEqual(batches.epoch_size, 2)
        (x0, y0), (x1, y1) = [tuple(map(np.asarray, pair)) for pair in batches]
        np.testing.assert_array_equal(x0, [[4, 3], [5, 6], [1, 0]])
        np.testing.assert_array_equal(y0, [[3, 2], [6, 1], [0, 3]])
        np.testing.assert_array_equal(x1, [[2, 1], [1, 1], [3, 4]])
        np.testing.assert_array_equal(y1, [[1, 0], [1, 1], [4, 1]])

    def test_rows_are_contiguous_slices_and_tail_is_dropped(self):
        batches = reader.ptb_producer(list(range(17)), batch_size=3, num_steps=2)
        # batch_len = 17 // 3 = 5: ids 15 and 16 do not fill a row.
        np.testing.assert_array_equal(
            batches.data, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14]]
        )
        self.assertEqual(batches.batch_len, 5)

    def test_empty_epoch_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "decrease batch_size or num_steps"):
            reader.ptb_producer(self.RAW, batch_size=5, num_steps=3)  # batch_len 3: (3-1)//3 = 0


class VocabularyTest(absltest.TestCase):
    def test_newlines_become_eos(self):
        self.assertEqual(
            reader.text_to_words(" a b \n c\nd \n"), ["a", "b", "<eos>", "c", "<eos>", "d", "<eos>"]
        )

    def test_ordered_by_count_then_word(self):
        # counts: b 3, <eos> 2, a 2, c 1; the tie between <eos> and a goes by the word.
        word_to_id = reader.build_vocab(reader.text_to_words("b a c\nb a b\n"))
        self.assertEqual(word_to_id, {"b": 0, "<eos>": 1, "a": 2, "c": 3})

    def test_raw_data_from_a_tiny_corpus(self):
        directory = helpers.write_corpus(
            self.create_tempdir().full_path, "b a c\nb a b\n", "a b\n", "c\n"
        )
        train, valid, test, vocabulary_size = reader.ptb_raw_data(directory)
        np.testing.assert_array_equal(train, [0, 2, 3, 1, 0, 2, 0, 1])
        np.testing.assert_array_equal(valid, [2, 0, 1])
        np.testing.assert_array_equal(test, [3, 1])
        self.assertEqual(vocabulary_size, 4)

    def test_unknown_words_become_unk_and_are_counted(self):
        directory = helpers.write_corpus(
            self.create_tempdir().full_path, "a <unk> a\n", "a x y\n", "a\n"
        )
        corpus = reader.load_corpus(directory)
        unk = corpus.word_to_id["<unk>"]
        np.testing.assert_array_equal(
            corpus.valid, [corpus.word_to_id["a"], unk, unk, corpus.word_to_id["<eos>"]]
        )
        self.assertEqual(corpus.unknown_counts, {"train": 0, "valid": 2, "test": 0})


@unittest.skipUnless(helpers.HAVE_PTB, f"PTB not found in {helpers.PTB_DIR}")
class PTBTest(absltest.TestCase):
    def test_sizes(self):
        train, valid, test, vocabulary_size = reader.ptb_raw_data(helpers.PTB_DIR)
        self.assertEqual(vocabulary_size, 10000)
        self.assertEqual((len(train), len(valid), len(test)), (929589, 73760, 82430))

    def test_most_frequent_word_is_the(self):
        corpus = reader.load_corpus(helpers.PTB_DIR)
        self.assertEqual(corpus.id_to_word[:4], ["the", "<unk>", "<eos>", "N"])


if __name__ == "__main__":
    absltest.main()
