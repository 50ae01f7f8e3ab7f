"""Why backpropagate through time? Training modes compared with numbers.

    python -m ptb_rnn.experiments --ptb_dir=DIR --epochs=2 --train_fraction=0.1
    make experiments

Two experiments, both through the one trainer (`trainer.train_and_evaluate`):

1. PTB: each mode of `truncation.MODES` (the tutorial's TBPTT, the stateless one-step
   baseline, one-step updates with the state carried, windows without carry, k = 5 and
   35, a truncation curriculum) trained on the same words for the same epochs. The loss
   is summed over a window's k steps, so an update's size grows with k while k = 1 makes
   k times more updates: per word seen, the same learning rate moves the weights by the
   same amount. Each mode still gets its learning rate from a small grid, picked on the
   validation set; a learning rate at which a mode diverges is recorded as such.
2. Echo: a synthetic stream in which the word after a query marker `Q` repeats the key
   word seen `delay` steps earlier (the words between are random fillers). Trained with
   windows of k words, the model can only learn the echo if the key and the answer fit in
   one window (delay < k), since the gradient stops at the window edge; once learnt, the
   carried state answers across window edges too. Delays below and above k, with and
   without carry, show both effects.

Results go to `OUTPUT_DIR/experiments.md`, PNG learning curves, and one work directory
per run under `OUTPUT_DIR/runs/` (a finished run, one with results.json, is not redone;
a directory holding another run, other settings or another corpus, is refused before any
run trains; `--notrain` reports the runs that ended and trains none).

With `--full`, every mode instead trains on all of PTB for 6 epochs at the rate the grid
picked for it, with validation points four times an epoch, and `OUTPUT_DIR/full_scale.md`
gives the words and training minutes each took to reach perplexity 300, 200 and 150.
Those runs take hours; their training minutes compare only at speeds measured with
nothing else running (`--measure_speeds`, speeds.py).

With `--study=layout`, a third experiment instead: what batch_size and num_steps each buy,
training speed per setting and validation perplexity at equal words and at equal time
(layout.py; `OUTPUT_DIR/layout.md`).

plan.py      the grid's runs, each a RunSpec and a work directory (no TensorFlow)
grid.py      trains or reads each run of the grid
results.py   how each run ended, read from its work directory; each mode's pick
speeds.py    training speed per window length, and the full-scale runs' time at it
echo.py      the echo task: its streams, its runs, the perplexity of the answers
report.py    experiments.md, full_scale.md and the learning curves
layout.py    batch size against time steps (--study=layout): the settings, their runs,
             the learning-rate grid that grows past its edge, the speeds per setting
layout_report.py  layout.md and its PNGs
__main__.py  the command line: python -m ptb_rnn.experiments --help
"""
