"""page.py: the page embeds describe's description and the words, and folds them again in
a real browser (headless Chromium) exactly as reader.ptb_producer and --format=json do.

The browser tests skip, with the reason, where Chromium, chromedriver or selenium is
missing; with PTB_RNN_REQUIRE_BROWSER=1 (as .ci/run sets) they fail there instead.
"""

import json
import os
import re
import shutil
import tempfile
import unittest

import helpers
from absl.testing import absltest

from ptb_rnn import reader
from ptb_rnn.shapes import describe, page

# 700 distinct words of 12 characters (as long as "hydro-quebec"): a grid that is one
# column off shows other words. The page folds the first 600.
STREAM = [f"longword{i:04d}" for i in range(700)]
PAGE_WORDS = 600
REQUIRE_BROWSER = os.environ.get("PTB_RNN_REQUIRE_BROWSER") == "1"


def stream_ids() -> tuple[list[int], list[str]]:
    """STREAM's ids and id_to_word, as the shapes tool reads a text file."""
    word_to_id = reader.build_vocab(STREAM)
    ids, _ = reader.words_to_ids(STREAM, word_to_id)
    return ids.tolist(), sorted(word_to_id, key=word_to_id.get)


def json_windows(batch_size: int, num_steps: int, num_windows: int = 2) -> list[dict]:
    """The windows --format=json prints for the page's words at this setting."""
    ids, id_to_word = stream_ids()
    layout = describe.layout(ids[:PAGE_WORDS], id_to_word, batch_size, num_steps, num_windows)
    return json.loads(json.dumps(layout["windows"]))


def write_page(directory: str) -> tuple[str, dict]:
    """The page of the first PAGE_WORDS of STREAM at batch_size 4, num_steps 5: its path
    and the description it embeds."""
    ids, id_to_word = stream_ids()
    config = helpers.shapes_config(batch_size=4, num_steps=5, vocab_size=len(id_to_word))
    description = describe.describe(ids[:PAGE_WORDS], id_to_word, config, 2, "STREAM")
    words = [id_to_word[i] for i in ids[:PAGE_WORDS]]
    path = os.path.join(directory, "shapes.html")
    with open(path, "w") as f:
        f.write(page.render(description, words, ids[:PAGE_WORDS], len(STREAM)))
    return path, description


class PageTest(absltest.TestCase):
    def test_embeds_the_description_words_and_ids(self):
        path, description = write_page(self.create_tempdir().full_path)
        with open(path) as f:
            data = page.embedded_data(f.read())
        ids, id_to_word = stream_ids()
        self.assertEqual(data["description"], json.loads(json.dumps(description)))
        self.assertEqual(data["words"], STREAM[:PAGE_WORDS])
        self.assertEqual(data["ids"], ids[:PAGE_WORDS])
        self.assertEqual([id_to_word[i] for i in data["ids"]], data["words"])
        self.assertEqual(data["stream_words"], 700)

    def test_a_word_that_ends_a_script_stays_data(self):
        description = {"corpus_words": 2, "source": "</script><b>"}
        html = page.render(description, ["</script>", "<eos>"], [0, 1], 2)
        # The data script's and the page's own script's end tags, no other.
        self.assertLen(re.findall("</script>", html), 2)
        self.assertEqual(page.embedded_data(html)["words"], ["</script>", "<eos>"])

    def test_refers_to_nothing_outside_itself(self):
        path, _ = write_page(self.create_tempdir().full_path)
        with open(path) as f:
            html = f.read()
        self.assertEqual(re.findall(r"\b(?:src|href)\s*=|url\(|@import|https?:", html), [])
        self.assertIn("default-src 'none'", html)

    def test_the_committed_page_is_what_the_tool_writes_now(self):
        # docs/shapes.html rendered again from its own data with today's template.
        with open(os.path.join(helpers.ROOT, "docs", "shapes.html")) as f:
            committed = f.read()
        data = page.embedded_data(committed)
        again = page.render(data["description"], data["words"], data["ids"], data["stream_words"])
        self.assertEqual(again + "\n", committed, "run make shapes-html (see docs/shapes.md)")

    def test_words_must_be_the_described_stream(self):
        with self.assertRaisesRegex(ValueError, "3 words and 3 ids for a description of 2"):
            page.page_data({"corpus_words": 2}, ["a", "b", "c"], [0, 1, 2], 3)


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not chromium_binary():
        return "no chromium (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver (apt-get install chromium-driver)"
    return None


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserTest(absltest.TestCase):
    """The page in headless Chromium, 1024 pixels wide (a projector's width)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reason = browser_missing()
        if reason is not None:
            if REQUIRE_BROWSER:
                raise AssertionError(f"PTB_RNN_REQUIRE_BROWSER=1, but {reason}.")
            raise unittest.SkipTest(reason)
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = chromium_binary()
        # --no-sandbox: CI runs as root; --disable-dev-shm-usage: a container's /dev/shm is small.
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
            options.add_argument(argument)
        options.add_argument("--disable-dev-shm-usage")
        options.add_argument("--window-size=1024,900")
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        cls.driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver")), options=options
        )
        directory = tempfile.mkdtemp(prefix="shapes_html_test-")
        cls.addClassCleanup(shutil.rmtree, directory)
        cls.path, cls.description = write_page(directory)
        cls.url = "file://" + cls.path

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.driver.get(self.url)

    def grid(self, table: str) -> list[list[str]]:
        """The words in the rendered grid #table, row by row."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map("
            "tr => [...tr.querySelectorAll('td .word')].map(s => s.textContent));",
            table,
        )

    def click(self, element_id: str) -> None:
        self.driver.find_element("id", element_id).click()

    def test_grids_are_the_json_window(self):
        window = json_windows(batch_size=4, num_steps=5)[0]
        self.assertEqual(self.grid("#x-grid"), window["x"])
        self.assertEqual(self.grid("#y-grid"), window["y"])
        self.assertEqual(window["x"][1][0], "longword0150")  # row 1 starts at word 600 // 4

    def test_grids_are_the_embedded_description(self):
        self.assertEqual(self.grid("#x-grid"), self.description["windows"][0]["x"])
        self.assertEqual(self.grid("#y-grid"), self.description["windows"][0]["y"])

    def test_batch_size_control_folds_again(self):
        self.click("batch_size-down")
        window = json_windows(batch_size=3, num_steps=5)[0]
        self.assertEqual(self.grid("#x-grid"), window["x"])
        self.assertEqual(self.grid("#y-grid"), window["y"])

    def test_typed_num_steps_folds_again(self):
        num_steps = self.driver.find_element("id", "num_steps")
        num_steps.clear()
        num_steps.send_keys("3")
        window = json_windows(batch_size=4, num_steps=3)[0]
        self.assertEqual(self.grid("#x-grid"), window["x"])
        self.assertEqual(self.grid("#y-grid"), window["y"])

    def test_window_control_shows_the_next_window(self):
        self.click("window-up")
        window = json_windows(batch_size=4, num_steps=5)[1]
        self.assertEqual(self.grid("#x-grid"), window["x"])
        self.assertEqual(self.grid("#y-grid"), window["y"])

    def test_state_into_a_window_is_the_last_x_of_the_one_before(self):
        self.click("window-up")
        first = self.driver.find_element("css selector", "#state-in li").text
        # Row 0 of window 0 reads words 0..4 as x; window 1 starts at word 5.
        self.assertEqual(
            first,
            "row 0: its (h, c) after 'longword0004', the last x of window 0, is its initial "
            "(h, c) here, before 'longword0005'",
        )

    def test_epoch_arithmetic(self):
        lines = self.driver.find_element("id", "epoch").text.splitlines()
        self.assertEqual(
            lines,
            [
                "batch_len         = 600 // 4 = 150 words per row",
                "epoch_size        = (batch_len - 1) // num_steps = 149 // 5 = 29 windows",
                "words per update  = batch_size x num_steps = 4 x 5 = 20",
                "updates per epoch = epoch_size = 29 (580 words read as x)",
            ],
        )

    def test_shapes_follow_the_controls(self):
        self.click("num_steps-up")
        shapes = self.driver.execute_script(
            "return [...document.querySelectorAll('#tensors tbody tr')].map("
            "tr => tr.cells[2].textContent);"
        )
        # B = 4, T = 6, H = 3, V = 700 (shapes_config with the stream's vocabulary).
        self.assertEqual(shapes[:3], ["[4, 6]", "[4, 6, 3]", "[4, 6, 3]"])
        self.assertEqual(shapes[-2:], ["[4, 6, 700]", "[] (scalar)"])

    def test_an_empty_epoch_says_what_the_reader_says(self):
        batch_size = self.driver.find_element("id", "batch_size")
        batch_size.clear()
        batch_size.send_keys("200")
        with self.assertRaises(reader.DataError) as raised:
            reader.ptb_producer(range(PAGE_WORDS), batch_size=200, num_steps=5)
        self.assertEqual(self.driver.find_element("id", "error").text, str(raised.exception))

    def test_no_horizontal_scrolling(self):
        widths = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];"
        )
        self.assertLessEqual(widths[0], widths[1])

    def test_makes_no_network_request(self):
        self.driver.get_log("performance")  # what earlier tests left
        self.driver.get(self.url)
        for control in ("batch_size-down", "num_steps-up", "window-up"):
            self.click(control)
        requests = [
            message["params"]["request"]["url"]
            for entry in self.driver.get_log("performance")
            for message in [json.loads(entry["message"])["message"]]
            if message["method"] == "Network.requestWillBeSent"
        ]
        self.assertEqual(requests, [self.url])


if __name__ == "__main__":
    absltest.main()
