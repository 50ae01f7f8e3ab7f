"""The shapes tool: what the batch and time-step tensors of the model hold, in real words.

It answers two questions that come up when learning RNNs:

* "Is batch_size a way of cutting a long sequence into shorter ones?" No: `ptb_producer`
  cuts the corpus into batch_size long rows, read side by side as independent streams.
* "If the cell is fed one word at a time, why are there time steps?" The LSTM layer
  runs its cell num_steps times per call, one word per row each time; num_steps is how
  many of those steps one window holds, and so how far back the gradient reaches.

describe.py  the folded corpus, the windows and the model's shapes, as a dict
text.py      that dict as the text the tool prints
figure.py    that dict as a PNG
page.py      that dict and the words as an HTML page (page.html) that folds them again
__main__.py  the command line: python -m ptb_rnn.shapes --help
"""
