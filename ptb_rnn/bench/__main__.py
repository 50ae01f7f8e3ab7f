"""Measures training and evaluation speed; see ptb_rnn/bench/__init__.py.

    python -m ptb_rnn.bench [--config=small] [--configs=small,medium] [--json=PATH]
    python -m ptb_rnn.bench --compare=softmax=dense,softmax=fused [--rounds=5]
    python -m ptb_rnn.bench --compare=precision=float32,precision=mixed_bfloat16

The config, run (--windows_per_call, --fused_lstm, --softmax, --precision) and field
flags are in ptb_rnn/cli.py; field flags (e.g. --hidden_size) apply to every config
measured. --compare takes two settings, A and B, each one or more RunSpec fields joined
by "+" (e.g. softmax=fused+precision=mixed_bfloat16), applied to the run the other
flags describe.
"""

import dataclasses
import statistics

from absl import flags

from ptb_rnn import cli, files
from ptb_rnn.config import ConfigError, get_config
from ptb_rnn.spec import RunSpec
from ptb_rnn.training import history

cli.define_config_flags()
cli.define_run_flags()
flags.DEFINE_list("configs", None, "Configs to measure (default: --config).")
flags.DEFINE_integer(
    "calls", 5, "Compiled calls per timing (each --windows_per_call windows).", lower_bound=1
)
flags.DEFINE_integer(
    "repeats", 3, "Timings per measurement; the median is reported.", lower_bound=1
)
flags.DEFINE_integer(
    "test_words",
    82430,
    "Words of the batch_size-1 test stream (PTB's); at least 2 (one read, one predicted).",
    lower_bound=2,
)
flags.DEFINE_integer(
    "train_words", 929589, "Words of an epoch, for the predicted time (PTB's).", lower_bound=1
)
flags.DEFINE_integer(
    "valid_words", 73760, "Validation words, for the predicted time (PTB's).", lower_bound=1
)
flags.DEFINE_boolean(
    "jit_compile",
    None,
    "Compile every step with XLA, or none. Default: XLA, except training in mixed_bfloat16, "
    "whose matmuls run faster in oneDNN (precision.use_xla).",
)
flags.DEFINE_integer(
    "matmul_size", 4096, "Side of the square matmul whose rate is reported.", lower_bound=1
)
flags.DEFINE_list(
    "compare",
    None,
    "Two settings A,B (e.g. softmax=dense,softmax=fused): time each config's training and "
    "validation with each, alternating, and print B/A.",
)
flags.DEFINE_integer(
    "rounds", 5, "With --compare: alternating timings of each setting.", lower_bound=1
)
flags.DEFINE_string("json", None, "Also write the numbers to this JSON file.")
FLAGS = flags.FLAGS

# RunSpec fields --compare may set, and how their values are read.
COMPARABLE = {
    "softmax": str,
    "precision": str,
    "fused_lstm": lambda value: {"true": True, "false": False}[value.lower()],
    "windows_per_call": int,
    "strategy": str,  # one_device or mirrored: what splitting the step costs on one device
}


def parse_setting(base: RunSpec, setting: str) -> RunSpec:
    """base with the fields of setting ("softmax=fused+precision=mixed_bfloat16") set.

    Raises:
      ConfigError: a field that --compare cannot set, or a value that is not one.
    """
    changes = {}
    for assignment in setting.split("+"):
        name, _, value = assignment.partition("=")
        if name not in COMPARABLE or not value:
            raise ConfigError(
                f"--compare: cannot read {assignment!r}; write field=value with a field "
                f"among {', '.join(COMPARABLE)}, e.g. --compare=softmax=dense,softmax=fused."
            )
        try:
            changes[name] = COMPARABLE[name](value)
        except (KeyError, ValueError):
            raise ConfigError(
                f"--compare: {value!r} is not a value of {name}; see --help."
            ) from None
    spec = dataclasses.replace(base, **changes)
    spec.check_computation()
    return spec


def predicted_minutes(spec: RunSpec, train_wps: float, valid_wps: float, test_wps: float):
    """The whole recipe's time at these speeds: every epoch's training and validation
    (training layout), then valid and test at batch size 1. Compiling, checkpoints and
    start-up are left out."""
    epoch_seconds = FLAGS.train_words / train_wps + FLAGS.valid_words / valid_wps
    final_seconds = (FLAGS.valid_words + FLAGS.test_words) / test_wps
    return (spec.config.max_max_epoch * epoch_seconds + final_seconds) / 60


def format_machine(report: dict) -> list[str]:
    """The machine and its matmul rates, as lines."""
    machine = report["machine"]
    lines = [
        f"machine: {machine['cpu']} (CPU family {machine['cpu_family']}), {machine['cores']} "
        f"cores, TF {machine['tensorflow']}, Keras {machine['keras']}",
        f"oneDNN's bfloat16 matmul kernel: {machine_isa(report)}",
        "matmul GFLOP/s (fastest of 10):",
        f"  {'m x k x n':<20} {'fp32':>7} {'fp32 XLA':>9} {'bf16':>7} {'bf16 XLA':>9}",
    ]
    for rates in report["matmul_rates"]:
        shape = " x ".join(str(side) for side in rates["shape"])
        lines.append(
            f"  {shape:<20} {rates['float32']:>7.1f} {rates['float32_xla']:>9.1f} "
            f"{rates['bfloat16']:>7.1f} {rates['bfloat16_xla']:>9.1f}"
        )
    return lines


def machine_isa(report: dict) -> str:
    """oneDNN's bfloat16 kernel ISA (reports written before it was measured: unknown)."""
    return report.get("onednn_bfloat16_isa", "unknown")


def reference_gflops(report: dict, precision: str) -> float:
    """The large-matmul rate a run in this precision is measured against: float32 or
    bfloat16, through oneDNN (the faster path of each)."""
    return report["matmul_rates"][0]["bfloat16" if precision == "mixed_bfloat16" else "float32"]


def format_table(report: dict) -> str:
    """The report as a plain-text table; "of matmul" is against the matmul rate of the
    row's own precision."""
    lines = format_machine(report) + [
        "",
        f"{'config':<8} {'lstm':<6} {'softmax':<8} {'precision':<15} {'train XLA':<9} "
        f"{'train w/s':>10} {'softmax w/s':>12} {'valid w/s':>10} {'test s':>7} "
        f"{'test w/s':>9} {'MFLOP/word':>11} {'GFLOP/s':>8} {'of matmul':>10} "
        f"{'roof w/s':>9} {'of roof':>8} {'RSS MiB':>8} {'recipe min':>11}",
    ]
    for row in report["configs"]:
        lines.append(
            f"{row['config']:<8} {'fused' if row['fused_lstm'] else 'keras':<6} "
            f"{row['softmax']:<8} {row['precision']:<15} "
            f"{'yes' if row['jit_compile'] else 'no':<9} "
            f"{row['train_words_per_second']:>10.0f} "
            f"{row['softmax_train_words_per_second']:>12.0f} "
            f"{row['valid_words_per_second']:>10.0f} {row['test_seconds']:>7.1f} "
            f"{row['test_words_per_second']:>9.0f} {row['train_flops_per_word'] / 1e6:>11.1f} "
            f"{row['train_gflops']:>8.1f} "
            f"{row['train_gflops'] / reference_gflops(report, row['precision']):>10.1%} "
            f"{row['matmul_roof']['words_per_second']:>9.0f} {row['of_roof']:>8.1%} "
            f"{row['peak_rss_mib']:>8.0f} {row['predicted_minutes']:>11.0f}"
        )
    for row in report["configs"]:
        lines += format_roof(row)
    return "\n".join(lines)


def format_roof(row: dict) -> list[str]:
    """A row's matmul roof product by product: how many a window runs, their rate at that
    size, their time per window and its share of the roof."""
    roof = row["matmul_roof"]
    lines = [
        "",
        f"{row['config']} {row['precision']}: the matmuls of a window "
        f"({roof['window_seconds'] * 1e3:.1f} ms in all)",
        f"  {'m x k x n':<20} {'per window':>10} {'GFLOP/s':>8} {'ms':>7} {'share':>6}",
    ]
    for matmul in roof["matmuls"]:
        m, k, n = matmul["shape"]
        seconds = matmul["count"] * 2 * m * k * n / (matmul["gflops"] * 1e9)
        lines.append(
            f"  {f'{m} x {k} x {n}':<20} {matmul['count']:>10} {matmul['gflops']:>8.1f} "
            f"{seconds * 1e3:>7.2f} {seconds / roof['window_seconds']:>6.1%}"
        )
    return lines


def format_comparison(report: dict) -> str:
    """The --compare report: every round's words/s and B/A, their medians, predictions."""
    settings = report["compare"]
    lines = format_machine(report)
    for row in report["configs"]:
        under_xla = ", ".join("yes" if jit else "no" for jit in row["jit_compile"])
        lines += [
            "",
            f"{row['config']}: A = {settings[0]}, B = {settings[1]} "
            f"(training under XLA: {under_xla}); "
            f"{len(row['train']['a'])} rounds in alternation",
            f"  {'round':<7} {'train A':>9} {'train B':>9} {'B/A':>6}   "
            f"{'valid A':>9} {'valid B':>9} {'B/A':>6}",
        ]
        train, valid = row["train"], row["valid"]
        for i in range(len(train["a"])):
            lines.append(
                f"  {i + 1:<7} {train['a'][i]:>9.0f} {train['b'][i]:>9.0f} "
                f"{train['ratio'][i]:>6.3f}   {valid['a'][i]:>9.0f} {valid['b'][i]:>9.0f} "
                f"{valid['ratio'][i]:>6.3f}"
            )
        medians = [statistics.median(values) for values in (*train.values(), *valid.values())]
        lines += [
            f"  {'median':<7} {medians[0]:>9.0f} {medians[1]:>9.0f} {medians[2]:>6.3f}   "
            f"{medians[3]:>9.0f} {medians[4]:>9.0f} {medians[5]:>6.3f}",
            f"  test protocol: A {row['test_seconds'][0]:.1f} s, B {row['test_seconds'][1]:.1f} s "
            f"for {FLAGS.test_words} words",
            f"  predicted recipe ({row['max_max_epoch']} epochs): "
            f"A {row['predicted_minutes'][0]:.0f} min, B {row['predicted_minutes'][1]:.0f} min",
        ]
    return "\n".join(lines)


def compare_rows(measure, pairs: dict, overrides: dict) -> list[dict]:
    """The --compare report's rows: each config's two settings timed in alternation."""
    rows = []
    for name, pair in pairs.items():
        row = measure.compare(pair, FLAGS.calls, FLAGS.rounds, FLAGS.test_words, FLAGS.jit_compile)
        row["predicted_minutes"] = [
            predicted_minutes(
                spec,
                statistics.median(row["train"][key]),
                statistics.median(row["valid"][key]),
                (FLAGS.test_words - 1) / seconds,
            )
            for spec, key, seconds in zip(pair, "ab", row["test_seconds"])
        ]
        max_max_epoch = pair[0].config.max_max_epoch
        rows.append({"config": name, "overrides": overrides, "max_max_epoch": max_max_epoch, **row})
    return rows


def bench_rows(measure, specs: dict, overrides: dict) -> list[dict]:
    """The report's rows: each config's speeds, one after the other."""
    rows = []
    for name, spec in specs.items():
        row = measure.bench_config(
            spec, FLAGS.calls, FLAGS.repeats, FLAGS.test_words, FLAGS.jit_compile
        )
        row["predicted_minutes"] = predicted_minutes(
            spec,
            row["train_words_per_second"],
            row["valid_words_per_second"],
            row["test_words_per_second"],
        )
        rows.append({"config": name, "overrides": overrides, **row})
    return rows


def main(argv):
    del argv
    if FLAGS.json is not None:
        files.check_output(FLAGS.json, "--json", "bench.json")
    names = FLAGS.configs or [FLAGS.config]
    base = cli.spec_from_flags()
    base.check_computation()
    # Field flags (e.g. --hidden_size) apply to every config measured.
    overrides = {k: v for k, v in dataclasses.asdict(base.config).items() if FLAGS[k].present}
    specs = {
        name: dataclasses.replace(base, config=get_config(name, **overrides)) for name in names
    }
    if FLAGS.compare is not None and len(FLAGS.compare) != 2:
        raise ConfigError(
            f"--compare takes two settings, got {len(FLAGS.compare)}; "
            "e.g. --compare=softmax=dense,softmax=fused."
        )
    pairs = {
        name: [parse_setting(spec, setting) for setting in FLAGS.compare or ()]
        for name, spec in specs.items()
    }
    # One device, alone or through MirroredStrategy's replica machinery (one replica).
    settings = [s for pair in pairs.values() for s in pair] or list(specs.values())
    one_device = all(
        s.strategy in ("one_device", "mirrored") and s.cpu_devices == 1 for s in settings
    )
    if not one_device or (not FLAGS.compare and base.strategy != "one_device"):
        raise ConfigError(
            "the benchmark runs on one device; to time what splitting the step over "
            "replicas costs there, pass --compare=strategy=one_device,strategy=mirrored."
        )
    # Imported once the input is known to be good (see cli.py).
    from ptb_rnn.bench import measure

    first = specs[names[0]].config
    softmax_shape = (first.batch_size * first.num_steps, first.hidden_size, first.vocab_size)
    rates = [measure.matmul_rates((FLAGS.matmul_size,) * 3), measure.matmul_rates(softmax_shape)]
    report = {
        "machine": history.machine_description(),
        "matmul_size": FLAGS.matmul_size,
        "matmul_gflops": rates[0]["float32"],
        "matmul_rates": rates,
        "onednn_bfloat16_isa": measure.onednn_bfloat16_isa(),
    }
    if FLAGS.compare:
        report["compare"] = FLAGS.compare
        report["configs"] = compare_rows(measure, pairs, overrides)
        print(format_comparison(report))
    else:
        report["configs"] = bench_rows(measure, specs, overrides)
        print(format_table(report))
    if FLAGS.json is not None:
        files.write_json(FLAGS.json, report)


def run():
    """The console script's entry point."""
    cli.run(main)


if __name__ == "__main__":
    run()
