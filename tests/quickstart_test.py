"""docs/quickstart.ipynb runs top to bottom in under a minute, so it cannot go stale.

It needs the PTB files (PTB_DIR, as the other tests read them) and is never skipped: a
missing corpus fails here, naming the directory it looked in.
"""

import json
import os
import re
import sys
import time
from unittest import mock

import helpers
import nbclient
import nbformat
from absl.testing import absltest
from jupyter_client.manager import KernelManager

NOTEBOOK = os.path.join(helpers.ROOT, "docs", "quickstart.ipynb")


def code_outputs(notebook) -> list[dict]:
    return [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]


class QuickstartTest(absltest.TestCase):
    def test_runs_top_to_bottom_in_under_a_minute(self):
        # The kernel runs this interpreter: the project's virtualenv, where ptb_rnn is.
        self.assertEqual(
            KernelManager(kernel_name="python3").format_kernel_cmd()[0], sys.executable
        )
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            timeout=60,
            kernel_name="python3",
            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}},
        )
        start = time.time()
        # The kernel runs in docs/: PTB_DIR as an absolute path.
        with mock.patch.dict(os.environ, {"PTB_DIR": os.path.abspath(helpers.PTB_DIR)}):
            client.execute()  # raises CellExecutionError, naming the cell, if one fails
        self.assertLess(time.time() - start, 60)
        printed = "".join(output.get("text", "") for output in code_outputs(notebook))
        self.assertIn("LanguageModel: ids", printed)
        # evaluate on PTB's test split: the perplexity the trainer reported.
        evaluated = re.search(r"^perplexity: (\S+)$", printed, re.MULTILINE).group(1)
        self.assertIn(f"the trainer's: {evaluated}\n", printed)
        self.assertIn("--- sample 2 ---\nthe company said", printed)

    def test_stored_outputs_are_small_and_only_what_the_cells_print(self):
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        outputs = code_outputs(notebook)
        self.assertLess(len(json.dumps(outputs)), 5000)
        self.assertEqual(
            {(output.output_type, output.get("name")) for output in outputs}, {("stream", "stdout")}
        )


if __name__ == "__main__":
    absltest.main()
