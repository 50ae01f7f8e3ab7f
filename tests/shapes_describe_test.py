"""describe.py: the layout is ptb_producer's, in words; the shapes are a real PTBModel's."""

import helpers
import numpy as np
from absl.testing import absltest

from ptb_rnn import reader
from ptb_rnn.config import ConfigError
from ptb_rnn.shapes import describe


class LayoutTest(absltest.TestCase):
    def test_golden_15_tokens(self):
        layout = describe.layout(
            helpers.TUTORIAL_IDS, helpers.LETTERS, batch_size=3, num_steps=2, num_windows=2
        )
        # Rows: e d c b a | f g b b b | b a d e b (ids 4 3 2 1 0 | 5 6 1 1 1 | 1 0 3 4 1).
        self.assertEqual(
            layout["rows"],
            [
                {"start": 0, "words": ["e", "d", "c", "b", "a"]},
                {"start": 5, "words": ["f", "g", "b", "b", "b"]},
                {"start": 10, "words": ["b", "a", "d", "e", "b"]},
            ],
        )
        first, second = layout["windows"]
        self.assertEqual(first["x"], [["e", "d"], ["f", "g"], ["b", "a"]])
        self.assertEqual(first["y"], [["d", "c"], ["g", "b"], ["a", "d"]])
        self.assertEqual(second["x"], [["c", "b"], ["b", "b"], ["d", "e"]])
        self.assertEqual(second["y"], [["b", "a"], ["b", "b"], ["e", "b"]])
        self.assertEqual(first["x_ids"], [[4, 3], [5, 6], [1, 0]])
        self.assertEqual(second["y_ids"], [[1, 0], [1, 1], [4, 1]])
        self.assertEqual((first["columns"], second["columns"]), ([0, 2], [2, 4]))

    def test_golden_numbers(self):
        layout = describe.layout(
            helpers.TUTORIAL_IDS, helpers.LETTERS, batch_size=3, num_steps=2, num_windows=2
        )
        numbers = {key: value for key, value in layout.items() if isinstance(value, int)}
        self.assertEqual(
            numbers,
            {
                "batch_size": 3,
                "num_steps": 2,
                "corpus_words": 15,
                "batch_len": 5,
                "dropped_tail": 0,
                "epoch_size": 2,
                "unread_per_row": 0,
                "words_per_update": 6,
                "updates_per_epoch": 2,
                "words_per_epoch": 12,
            },
        )

    def test_windows_are_ptb_producers(self):
        ids = np.random.default_rng(0).integers(0, 7, 50)
        layout = describe.layout(ids, helpers.LETTERS, batch_size=4, num_steps=3, num_windows=3)
        batches = reader.ptb_producer(ids, batch_size=4, num_steps=3)
        self.assertEqual(layout["batch_len"], batches.batch_len)
        self.assertEqual(layout["epoch_size"], batches.epoch_size)
        self.assertLen(layout["windows"], 3)
        for window, (x, y) in zip(layout["windows"], batches):
            np.testing.assert_array_equal(window["x_ids"], x)
            np.testing.assert_array_equal(window["y_ids"], y)
            self.assertEqual(window["x"], [[helpers.LETTERS[i] for i in row] for row in x])
        for row, data_row in zip(layout["rows"], batches.data):
            self.assertEqual(ids[row["start"]], data_row[0])
            self.assertLen(row["words"], 3 * 3 + 1)  # the shown x columns, and y's last

    def test_tail_dropped_and_end_of_row_unread(self):
        # 17 ids, 3 rows of 5: ids 15 and 16 are dropped; with num_steps 3 one window
        # reads columns 0..3 of each row (x 0..2, y 1..3), so column 4 is never read.
        layout = describe.layout(list(range(17)), [str(i) for i in range(17)], 3, 3, 2)
        self.assertEqual(
            (layout["batch_len"], layout["dropped_tail"], layout["epoch_size"]), (5, 2, 1)
        )
        self.assertEqual(layout["unread_per_row"], 1)
        self.assertLen(layout["windows"], 1)

    def test_windows_shown_at_most_epoch_size(self):
        layout = describe.layout(
            helpers.TUTORIAL_IDS, helpers.LETTERS, batch_size=3, num_steps=2, num_windows=5
        )
        self.assertLen(layout["windows"], 2)

    def test_no_window_is_an_error(self):
        with self.assertRaisesRegex(ConfigError, "--windows must be at least 1"):
            describe.layout(
                helpers.TUTORIAL_IDS, helpers.LETTERS, batch_size=3, num_steps=2, num_windows=0
            )

    def test_empty_epoch_is_an_error(self):
        with self.assertRaisesRegex(reader.DataError, "epoch_size == 0"):
            describe.layout(
                helpers.TUTORIAL_IDS, helpers.LETTERS, batch_size=5, num_steps=3, num_windows=1
            )


class ModelShapesTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = describe.model_shapes(helpers.shapes_config(num_steps=4, batch_size=2))

    def test_tensor_shapes(self):
        self.assertEqual(
            [(t["name"], t["symbols"], t["shape"]) for t in self.model["tensors"]],
            [
                ("ids", "[B, T]", [2, 4]),
                ("embeddings", "[B, T, H]", [2, 4, 3]),
                ("lstm_0 outputs", "[B, T, H]", [2, 4, 3]),
                ("lstm_0 state h", "[B, H]", [2, 3]),
                ("lstm_0 state c", "[B, H]", [2, 3]),
                ("lstm_1 outputs", "[B, T, H]", [2, 4, 3]),
                ("lstm_1 state h", "[B, H]", [2, 3]),
                ("lstm_1 state c", "[B, H]", [2, 3]),
                ("logits", "[B, T, V]", [2, 4, 7]),
                ("loss", "[]", []),
            ],
        )

    def test_parameter_counts(self):
        # embedding V*H; LSTM 4H*(in+H) + 4H with in = H; softmax H*V + V.
        self.assertEqual(
            self.model["parameters"],
            {"embedding": 21, "lstm_0": 84, "lstm_1": 84, "softmax": 28, "total": 217},
        )

    def test_flops_per_word(self):
        # 2 * ((3+3) * 12) per LSTM layer, twice, plus 2 * 3 * 7 for the softmax.
        self.assertEqual(self.model["flops_per_word"], {"forward": 330, "forward_backward": 990})


if __name__ == "__main__":
    absltest.main()
