"""text.py: the terminal rendering of a description, checked on the tutorial's 15 ids."""

import helpers
from absl.testing import absltest

from ptb_rnn.shapes import describe, text


class LabelsTest(absltest.TestCase):
    def test_word_count(self):
        self.assertEqual(
            [text.word_count(n) for n in (0, 1, 1234)], ["0 words", "1 word", "1,234 words"]
        )

    def test_shape_label(self):
        self.assertEqual(text.shape_label([3, 2, 10000]), "[3, 2, 10,000]")
        self.assertEqual(text.shape_label([]), "[] (scalar)")


class FormatTextTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        description = describe.describe(
            helpers.TUTORIAL_IDS,
            helpers.LETTERS,
            helpers.shapes_config(),
            num_windows=2,
            source="helpers.TUTORIAL_IDS",
        )
        cls.text = text.format_text(description)

    def test_prints_the_golden_windows(self):
        # x then y of each row, side by side.
        self.assertRegex(self.text, r"(?m)^ +row 0 +e d +d c$")
        self.assertRegex(self.text, r"(?m)^ +row 2 +b a +a d$")
        self.assertRegex(self.text, r"(?m)^ +row 1 +b b +b b$")

    def test_prints_the_state_carry_row_by_row(self):
        self.assertIn(
            "row 1: its (h, c) after 'g' is its initial (h, c) in window 1, which starts at 'b'",
            self.text,
        )
        self.assertNotIn("into window 2", self.text)  # the epoch ends after window 1

    def test_prints_the_epoch_arithmetic(self):
        self.assertIn("batch_len         = 15 // 3 = 5 words per row", self.text)
        self.assertIn("(batch_len - 1) // num_steps = 4 // 2 = 2 windows", self.text)
        self.assertIn("logits          [B, T, V]  [3, 2, 7]", self.text)


if __name__ == "__main__":
    absltest.main()
