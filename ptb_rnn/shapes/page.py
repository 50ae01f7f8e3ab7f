"""The description of `describe.describe` as one self-contained HTML page that folds again.

The page (the template `page.html` beside this module: inline CSS and JavaScript, nothing
fetched from anywhere when it is viewed) embeds the description and the words it was
made from, with their ids, as one JSON value:

  description   `describe.describe`'s dict, as `--format=json` prints it
  words, ids    the folded stream: its words and their ids, position by position
  stream_words  how many words the whole stream has, of which `words` are the first

Its controls set batch_size, num_steps and the window, and its script folds `ids` again
in the browser with `reader.ptb_producer`'s arithmetic, so every setting shows what
`--format=json` prints for it (tests/shapes_html_test.py checks that in Chromium).
"""

import importlib.resources
import json

EXCERPT_WORDS = 4_000  # words the page folds when --words is not given
MAX_WORDS = 20_000  # the most the page embeds: about 10 bytes each
PLACEHOLDER = "{{DATA}}"


def page_data(description: dict, words: list[str], ids: list[int], stream_words: int) -> dict:
    """The JSON value the page embeds (keys in the module docstring).

    Args:
      description: from `describe.describe`, of exactly the stream `words` and `ids`.
      words, ids: the folded stream, position by position.
      stream_words: the length of the whole stream the words were cut from.
    """
    if len(words) != len(ids) or len(ids) != description["corpus_words"]:
        raise ValueError(
            f"{len(words)} words and {len(ids)} ids for a description of "
            f"{description['corpus_words']} words."
        )
    return {
        "description": description,
        "words": list(words),
        "ids": [int(i) for i in ids],
        "stream_words": int(stream_words),
    }


def render(description: dict, words: list[str], ids: list[int], stream_words: int) -> str:
    """The HTML page: the template with `page_data(...)` in its data script.

    `<` is written as \\u003c in the JSON, so that no word (`<eos>`, or `</script>` in a
    text file) can end the script element early; the JSON value is unchanged.
    """
    data = json.dumps(page_data(description, words, ids, stream_words), separators=(",", ":"))
    template = importlib.resources.files(__package__).joinpath("page.html").read_text("utf-8")
    return template.replace(PLACEHOLDER, data.replace("<", "\\u003c"))


def embedded_data(html: str) -> dict:
    """The JSON value in a page written by `render` (for tests and for reading a page back)."""
    start = html.index('<script id="data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])
