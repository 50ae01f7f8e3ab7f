"""figure.py: the PNG's size follows the layout, it replaces an old one whole, and it is
written atomically."""

import os

import helpers
from absl.testing import absltest
from matplotlib import image

from ptb_rnn import files
from ptb_rnn.config import get_config
from ptb_rnn.shapes import describe, figure


class DrawTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = get_config(
            "small", hidden_size=3, vocab_size=7, num_layers=2, batch_size=3, num_steps=2
        )
        cls.description = describe.describe(
            helpers.TUTORIAL_IDS,
            helpers.LETTERS,
            config,
            num_windows=2,
            source="helpers.TUTORIAL_IDS",
        )

    def test_png_size_follows_the_layout(self):
        png = os.path.join(self.create_tempdir().full_path, "shapes.png")
        figure.draw(self.description, png)
        # 3 rows, 5 columns shown (two windows of 2, and y's last), at 100 dpi:
        # width max(14, 2.5 + 1.05 * 5) = 14 inches; height 1.6 for the stream,
        # 0.55 * 3 + 1.2 = 2.85 for the rows, max(4.2, 0.35 * 3 + 2) = 4.2 for the block.
        height, width, _ = image.imread(png).shape
        self.assertEqual((width, height), (1400, 865))

    def test_a_missing_directory_is_created(self):
        png = os.path.join(self.create_tempdir().full_path, "new", "shapes.png")
        figure.draw(self.description, png)
        self.assertEqual(os.listdir(os.path.dirname(png)), ["shapes.png"])

    def test_a_failed_write_is_an_error_and_leaves_nothing(self):
        directory = self.create_tempdir().full_path
        files.write_text(os.path.join(directory, "a_file"), "")
        with self.assertRaisesRegex(files.WorkdirError, "^cannot write .*a_file/shapes.png"):
            figure.draw(self.description, os.path.join(directory, "a_file", "shapes.png"))
        self.assertEqual(os.listdir(directory), ["a_file"])

    def test_a_new_png_replaces_the_old_file_instead_of_writing_into_it(self):
        directory = self.create_tempdir().full_path
        png, old = os.path.join(directory, "shapes.png"), os.path.join(directory, "old.png")
        with open(png, "w") as f:
            f.write("the old figure")
        os.link(png, old)  # a second name for the old file: what a reader of it still sees
        figure.draw(self.description, png)
        with open(old) as f:
            self.assertEqual(f.read(), "the old figure")
        self.assertEqual(image.imread(png).shape, (865, 1400, 4))
        self.assertCountEqual(os.listdir(directory), ["shapes.png", "old.png"])


if __name__ == "__main__":
    absltest.main()
