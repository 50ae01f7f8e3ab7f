"""Training with truncated BPTT, in the order the trainer uses the modules:

    steps.py       the loss, SGD with global-norm clipping, the compiled steps
                   (backprop cut at each window's edge)
    replicas.py    the same steps placed on tf.distribute replicas, rows per replica
    epoch.py       one pass over windows with the LSTM state carried between calls
    trainer.py     train_and_evaluate: the tutorial's recipe as a table of contents
    callbacks.py   what the trainer calls back: divergence guard, checkpoints,
                   summaries, stop on request
    checkpoint.py  what a checkpoint holds
    history.py     the record of a run (results.json)
    cluster.py     TF_CONFIG read, and the workers met, without TensorFlow

history.py and cluster.py import no TensorFlow (this file imports nothing).
"""
