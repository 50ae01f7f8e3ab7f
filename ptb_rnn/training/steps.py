"""The optimizer and the compiled train and evaluation steps.

The model computes a window's loss (`PTBModel.softmax_loss`: the tutorial's, summed over
the time steps and averaged over the batch rows, which is what makes learning rate 1.0
the right step); the steps here run it, differentiate it and update. A step function
runs several consecutive windows per call (fewer calls, less overhead); each training
window is one SGD update. Truncated BPTT happens in `window_loss`: the
state a window starts from is a constant for the gradient.

The steps are compiled with XLA, except training steps whose matmuls are bfloat16:
those run faster through oneDNN (`precision.use_xla`).
"""

import keras
import tensorflow as tf

from ptb_rnn.config import Config
from ptb_rnn.model import precision
from ptb_rnn.model.network import PTBModel, State


def window_loss(model: PTBModel, x, y, state: State, training: bool):
    """The loss of one window and the state it ends in.

    Truncated BPTT happens here: the incoming state is treated as a constant, so the
    gradient of this window's loss stops at its first step and never flows back into
    the window that produced the state.

    Args:
      x, y: int ids, (batch_size, num_steps); y is x shifted by one word.
      state: the (h, c) of each layer at the start of the window.

    Returns:
      (loss, final_state): the window's loss (`PTBModel.softmax_loss`), and the state
      after it.
    """
    state = tf.nest.map_structure(tf.stop_gradient, state)
    outputs, final_state = model.lstm_outputs(x, state, training=training)
    return model.softmax_loss(outputs, y), final_state


def make_optimizer(config: Config) -> keras.optimizers.Optimizer:
    """Plain SGD with the gradients clipped to a global norm of max_grad_norm."""
    return keras.optimizers.SGD(
        learning_rate=config.learning_rate, global_clipnorm=config.max_grad_norm
    )


def over_windows(window_fn, carry_state: bool, jit_compile: bool):
    """Compiles `steps(xs, ys, state) -> (losses, final_state)` over consecutive windows.

    xs and ys are (num_windows, batch_size, num_steps); `window_fn(x, y, state) ->
    (loss, final_state)` runs on each window in turn, and losses is (num_windows,).
    With carry_state false every window starts from zeros.

    The windows are a loop, so one trace serves any num_windows (an epoch's last call
    is usually shorter than the others); batch_size and num_steps are static (the fused
    LSTM unrolls its window), so each new (batch_size, num_steps) is a new trace.
    """

    @tf.function(jit_compile=jit_compile)
    def traced(xs, ys, state: State):
        losses = tf.TensorArray(tf.float32, size=tf.shape(xs)[0])
        for i in tf.range(tf.shape(xs)[0]):
            if not carry_state:
                state = tf.nest.map_structure(tf.zeros_like, state)
            loss, state = window_fn(xs[i], ys[i], state)
            losses = losses.write(i, loss)
        return losses.stack(), state

    def steps_fn(xs, ys, state: State):
        def spec(value):
            return tf.TensorSpec(value.shape, tf.as_dtype(value.dtype))

        windows = [tf.TensorSpec([None, *v.shape[1:]], tf.as_dtype(v.dtype)) for v in (xs, ys)]
        concrete = traced.get_concrete_function(*windows, tf.nest.map_structure(spec, state))
        return concrete(xs, ys, state)

    return steps_fn


def make_train_steps(
    model: PTBModel,
    optimizer: keras.optimizers.Optimizer,
    carry_state: bool = True,
    jit_compile: bool | None = None,
):
    """A compiled `train_steps(xs, ys, state) -> (losses, final_state)`.

    Runs one SGD update per window, for several consecutive windows per call: xs and ys
    are (num_windows, batch_size, num_steps), losses is (num_windows,). With carry_state
    false every window starts from zeros. jit_compile=True compiles the step with XLA
    (see docs/performance.md); None: XLA unless the model's precision runs faster
    without (`precision.use_xla`).
    """

    def train_window(x, y, state: State):
        with tf.GradientTape() as tape:
            loss, state = window_loss(model, x, y, state, training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)  # clips to global_clipnorm
        return loss, state

    return over_windows(train_window, carry_state, compile_with_xla(model, jit_compile))


def make_eval_steps(model: PTBModel, carry_state: bool = True, jit_compile: bool = True):
    """A compiled `eval_steps(xs, ys, state) -> (losses, final_state)`, no dropout.

    XLA by default in either precision: the batch-size-1 stream's long windows take
    Keras's loop of small steps, which XLA runs 1.5x faster than oneDNN's bfloat16
    (docs/performance.md).
    """

    def eval_window(x, y, state: State):
        return window_loss(model, x, y, state, training=False)

    return over_windows(eval_window, carry_state, jit_compile)


def make_log_prob_steps(model: PTBModel, jit_compile: bool = True):
    """A compiled `log_prob_steps(x, y, state) -> (log_probs, final_state)`, no dropout.

    x, y: int ids, (batch_size, num_steps); log_probs: log p(y | x and the state),
    (batch_size, num_steps).
    """

    @tf.function(jit_compile=jit_compile)
    def log_prob_steps(x, y, state: State):
        logits, state = model(x, state, training=False)
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), state

    return log_prob_steps


def compile_with_xla(model: PTBModel, jit_compile: bool | None) -> bool:
    """jit_compile, or when None whether the model's precision trains fastest under XLA."""
    return precision.use_xla(model.precision) if jit_compile is None else jit_compile
