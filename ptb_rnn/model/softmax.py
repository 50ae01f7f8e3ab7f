"""The output layer and the loss in one function, with a hand-written gradient.

`fused_sequence_loss(outputs, kernel, bias, targets)` is

    sequence_loss(outputs @ kernel + bias, targets)

the tutorial's loss (the cross-entropy averaged over the batch and summed over the time
steps) of the softmax layer's logits. Per row n of the batch_size x num_steps rows:

    logits_n = h_n @ kernel + bias                        # (vocab_size,)
    loss    += (logsumexp(logits_n) - logits_n[y_n]) / batch_size

and backward, with g the gradient of the loss at the logits,

    g  = (softmax(logits) - one_hot(y)) / batch_size      # (rows, vocab_size)
    dh = g @ kernel^T      dkernel = h^T @ g      dbias = sum of g over the rows

g is formed once, from the logits and their log-sum-exp kept from the forward pass,
and the three gradients are one matmul or sum each: nothing goes back through
automatic differentiation. For the small config the rows are 400 and the vocabulary
10000, and this layer is three quarters of a training step's arithmetic
(docs/performance.md). tests/softmax_test.py checks the loss and the three gradients
against the dense path (`keras.layers.Dense` + `sequence_loss`, automatic
gradient).
"""

import tensorflow as tf

from ptb_rnn.model import precision as precision_lib


def sequence_loss(logits, targets):
    """Cross-entropy averaged over the batch and summed over the time steps.

    Summing over num_steps (not averaging) is the tutorial's scaling; it is what
    makes learning_rate 1.0 the right step size.

    Args:
      logits: (batch_size, num_steps, vocab_size).
      targets: int ids, (batch_size, num_steps).

    Returns:
      A scalar: sum over steps of the batch-mean cross-entropy (in nats).
    """
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_sum(tf.reduce_mean(xent, axis=0))


def fused_sequence_loss(outputs, kernel, bias, targets, precision: str = "float32"):
    """The softmax layer's loss, `sequence_loss` of its logits, in one step.

    Args:
      outputs: the last LSTM layer's outputs, (batch_size, num_steps, hidden_size).
      kernel: the softmax weights, (hidden_size, vocab_size).
      bias: (vocab_size,).
      targets: int ids, (batch_size, num_steps).
      precision: "float32", or "mixed_bfloat16" for bfloat16 inputs to the three
        matmuls (the logits, the log-sum-exp and g stay float32).

    Returns:
      A scalar: sum over steps of the batch-mean cross-entropy (in nats). Gradients
      flow to outputs, kernel and bias.
    """
    hidden_size = outputs.shape[-1]
    rows = tf.reshape(outputs, [-1, hidden_size])  # (batch_size * num_steps, hidden_size)
    labels = tf.reshape(targets, [-1])  # (batch_size * num_steps,)
    # Mean over the batch, summed over the steps: each row counts 1 / batch_size.
    row_weight = 1.0 / tf.cast(tf.shape(outputs)[0], tf.float32)

    @tf.custom_gradient
    def forward(rows, kernel, bias):
        logits = precision_lib.matmul(rows, kernel, precision) + bias  # (rows, vocab_size)
        log_normalizer = tf.reduce_logsumexp(logits, axis=-1, keepdims=True)  # (rows, 1)
        target_logits = tf.gather(logits, labels[:, tf.newaxis], batch_dims=1)  # (rows, 1)
        loss = tf.reduce_sum(log_normalizer - target_logits) * row_weight

        def backward(d_loss):
            softmax = tf.exp(logits - log_normalizer)  # (rows, vocab_size)
            one_hot = tf.one_hot(labels, tf.shape(logits)[-1])
            g = (softmax - one_hot) * (d_loss * row_weight)  # the gradient at the logits
            d_rows = precision_lib.matmul(g, kernel, precision, transpose_b=True)
            d_kernel = precision_lib.matmul(rows, g, precision, transpose_a=True)
            return d_rows, d_kernel, tf.reduce_sum(g, axis=0)

        return loss, backward

    return forward(rows, tf.convert_to_tensor(kernel), tf.convert_to_tensor(bias))
