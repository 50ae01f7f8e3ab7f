"""Measures training and evaluation speed; see ptb_rnn/bench/__init__.py.

    python -m ptb_rnn.bench [--config=small] [--configs=small,medium] [--json=PATH]

The config, run (--windows_per_call, --fused_lstm) and field flags are in
ptb_rnn/cli.py; field flags (e.g. --hidden_size) apply to every config measured.
"""

import dataclasses
import os

from absl import flags

from ptb_rnn import cli, files, history
from ptb_rnn.config import get_config

flags.DEFINE_list("configs", None, "Configs to measure (default: --config).")
flags.DEFINE_integer("calls", 5, "Compiled calls per timing (each --windows_per_call windows).")
flags.DEFINE_integer("repeats", 3, "Timings per measurement; the median is reported.")
flags.DEFINE_integer("test_words", 82430, "Words of the batch_size-1 test stream (PTB's).")
flags.DEFINE_boolean("jit_compile", True, "Compile the steps with XLA.")
flags.DEFINE_string("json", None, "Also write the numbers to this JSON file.")
FLAGS = flags.FLAGS


def format_table(report: dict) -> str:
    """The report as a plain-text table."""
    machine, peak = report["machine"], report["matmul_gflops"]
    lines = [
        f"machine: {machine['cpu']} (CPU family {machine['cpu_family']}), {machine['cores']} "
        f"cores, TF {machine['tensorflow']}, Keras {machine['keras']}",
        f"float32 matmul {report['matmul_size']}x{report['matmul_size']}: {peak:.1f} GFLOP/s "
        "(fastest of 10)",
        "",
        f"{'config':<8} {'lstm':<6} {'train w/s':>10} {'softmax w/s':>12} {'valid w/s':>10} "
        f"{'test s':>7} {'test w/s':>9} "
        f"{'MFLOP/word':>11} {'GFLOP/s':>8} {'of matmul':>10} {'RSS MiB':>8}",
    ]
    for row in report["configs"]:
        lines.append(
            f"{row['config']:<8} {'fused' if row['fused_lstm'] else 'keras':<6} "
            f"{row['train_words_per_second']:>10.0f} "
            f"{row['softmax_train_words_per_second']:>12.0f} "
            f"{row['valid_words_per_second']:>10.0f} {row['test_seconds']:>7.1f} "
            f"{row['test_words_per_second']:>9.0f} {row['train_flops_per_word'] / 1e6:>11.1f} "
            f"{row['train_gflops']:>8.1f} {row['train_gflops'] / peak:>10.1%} "
            f"{row['peak_rss_mib']:>8.0f}"
        )
    return "\n".join(lines)


def main(argv):
    del argv
    names = FLAGS.configs or [FLAGS.config]
    base = cli.spec_from_flags()
    # Field flags (e.g. --hidden_size) apply to every config measured.
    overrides = {k: v for k, v in dataclasses.asdict(base.config).items() if FLAGS[k].present}
    specs = {
        name: dataclasses.replace(base, config=get_config(name, **overrides)) for name in names
    }
    if FLAGS.json:
        files.check_writable(os.path.dirname(FLAGS.json) or ".", "--json")
    # Imported once the input is known to be good (see cli.py).
    from ptb_rnn.bench import measure

    report = {
        "machine": history.machine_description(),
        "matmul_size": measure.MATMUL_SIZE,
        "matmul_gflops": measure.matmul_gflops(),
        "configs": [],
    }
    for name, spec in specs.items():
        row = measure.bench_config(
            spec, FLAGS.calls, FLAGS.repeats, FLAGS.test_words, FLAGS.jit_compile
        )
        report["configs"].append({"config": name, "overrides": overrides, **row})
    print(format_table(report))
    if FLAGS.json:
        files.write_json(FLAGS.json, report)


if __name__ == "__main__":
    cli.run(main)
