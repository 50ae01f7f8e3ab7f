"""The package as a user installs it (a wheel, not this source tree): its data files and
a console script for every tool."""

import configparser
import glob
import os
import subprocess
import sys
import zipfile

from absl.testing import absltest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What the project's top directory holds besides the package's sources.
NOT_SOURCES = {".git", ".venv", "build", "runs", "results", "data", "docs", "tests"}
TOOLS = ("train", "data", "evaluate", "sample", "export", "shapes", "bench", "experiments")


def not_sources(directory: str, names: list[str]) -> set[str]:
    """`shutil.copytree`'s ignore: what the copy of the sources leaves out."""
    top = os.path.samefile(directory, ROOT)
    return {
        name
        for name in names
        if (top and name in NOT_SOURCES) or name == "__pycache__" or name.endswith(".egg-info")
    }


def console_scripts() -> dict[str, str]:
    """setup.cfg's console scripts: name -> "module:function"."""
    setup = configparser.ConfigParser()
    setup.read(os.path.join(ROOT, "setup.cfg"))
    lines = setup["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=")) for line in lines)


class DevExtrasTest(absltest.TestCase):
    def test_hold_what_runs_the_notebook_in_a_test_and_by_hand(self):
        setup = configparser.ConfigParser()
        setup.read(os.path.join(ROOT, "setup.cfg"))
        lines = setup["options.extras_require"]["dev"].splitlines()
        dev = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
        self.assertLessEqual({"nbformat", "nbclient", "ipykernel", "nbconvert"}, dev)


class WheelTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        tmp = self.create_tempdir().full_path
        build = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                tmp,
                ROOT,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(build.returncode, 0, build.stderr)
        [self.wheel] = glob.glob(os.path.join(tmp, "ptb_rnn-*.whl"))
        self.target = os.path.join(tmp, "site")
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                self.target,
                self.wheel,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(install.returncode, 0, install.stderr)

    def test_holds_the_data_files(self):
        with zipfile.ZipFile(self.wheel) as wheel:
            names = set(wheel.namelist())
        for name in (
            "data/ptb/checksums.tsv",
            "data/ptb/dummy_data/train.txt",
            "data/ptb/dummy_data/valid.txt",
            "data/ptb/dummy_data/test.txt",
            "shapes/page.html",
        ):
            self.assertIn(f"ptb_rnn/{name}", names)

    def test_every_tool_has_a_console_script_that_starts(self):
        scripts = console_scripts()
        self.assertEqual(sorted(scripts), sorted(f"ptb-rnn-{tool}" for tool in TOOLS))
        # The installed copy, from a directory outside the source tree.
        env = {**os.environ, "PYTHONPATH": self.target}
        for name in scripts:
            with self.subTest(name):
                result = subprocess.run(
                    [os.path.join(self.target, "bin", name), "--help"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    cwd=self.target,
                    env=env,
                )
                self.assertEqual(result.returncode, 0, result.stderr)
                # the first group of the tool's flags, and a flag in it
                self.assertRegex(result.stdout, r"\nflags:\n\n\S.*:\n  --")
        where = subprocess.run(
            [sys.executable, "-c", "import ptb_rnn; print(ptb_rnn.__file__)"],
            capture_output=True,
            text=True,
            cwd=self.target,
            env=env,
        )
        self.assertTrue(where.stdout.startswith(self.target), where.stdout)


if __name__ == "__main__":
    absltest.main()
