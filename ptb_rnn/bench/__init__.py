"""Measures training and evaluation speed, and how close training gets to the CPU's peak.

    python -m ptb_rnn.bench [--config=small] [--configs=small,medium] [--json=PATH]
    python -m ptb_rnn.bench --compare=softmax=dense,softmax=fused [--rounds=5]
    make bench [BENCH_CONFIGS=medium] [FLAGS=--compare=precision=float32,precision=mixed_bfloat16]

First the machine: its CPU model and family, the instruction set of oneDNN's bfloat16
matmul kernel (AMX, AVX512_BF16 or none), and the rates of float32 and bfloat16
matmuls, through oneDNN and through XLA, for a large square matmul and for the softmax
layer's (the fastest of 10 each).

Then for each config: training words/s in steady state (after compiling, the median of
--repeats timings of --calls calls of --windows_per_call windows each), the same for
the softmax layer alone (a bound on training speed; see `measure.make_softmax_steps`),
validation words/s (training layout, state carried), the test protocol (batch_size 1,
state carried, over --test_words words) in seconds and words/s, the process's peak
memory, and the whole recipe's predicted time at these speeds. The arithmetic the model
does per training word (`PTBModel.forward_flops_per_word`, x3 for forward + backward)
divided by the time per word gives the achieved GFLOP/s, compared with the rate of the
large matmul in the run's precision measured in the same run ("of matmul"), so the
ratio holds on any machine. The roof at the model's own shapes: every matmul of a
training window (`measure.window_matmuls`) timed alone at its real size, in the run's
precision and where its step runs (bfloat16 through oneDNN, float32 under XLA); the
words/s training would reach if a window cost only those ("roof w/s"), and the
step's share of it ("of roof").

--compare=A,B instead times two settings of the same run (e.g. softmax=dense and
softmax=fused) in alternation, --rounds times each, and prints the ratio B/A of every
round and their median: on a machine whose speed drifts, or that other work shares,
only such ratios compare like with like.

    measure.py    the timings (imports TensorFlow)
    __main__.py   flags, the tables, the JSON report
"""
