"""Measures training and evaluation speed, and how close training gets to the CPU's peak.

    python -m ptb_rnn.bench [--config=small] [--configs=small,medium] [--json=PATH]
    make bench

For each config: training words/s in steady state (after compiling, the median of
--repeats timings of --calls calls of --windows_per_call windows each), the same for
the softmax layer alone (a bound on training speed; see `measure.make_softmax_steps`),
validation words/s (training layout, state carried), the test protocol (batch_size 1,
state carried, over --test_words words) in seconds and words/s, and the process's
peak memory. The arithmetic the model does per training word
(`PTBModel.forward_flops_per_word`, x3 for forward + backward) divided by the time per
word gives the achieved GFLOP/s, compared with the rate of a large float32 matmul
through TensorFlow measured in the same run (the fastest of 10), so the ratio holds on
any machine.

    measure.py    the timings (imports TensorFlow)
    __main__.py   flags, the table, the JSON report
"""
