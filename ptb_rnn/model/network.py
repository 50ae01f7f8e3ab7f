"""The tutorial's LSTM language model as a Keras 3 model with explicit state.

    ids (B, T) -> embedding (B, T, H) -> dropout -> [LSTM -> dropout] x num_layers
        -> dense (B, T, V) logits

The LSTM state is an argument and a result of every call, never hidden inside the
layers (`stateful=False`): the training loop decides whether to carry it from one
window to the next, cut its gradient, or reset it to zeros.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from ptb_rnn.config import Config
from ptb_rnn.model import precision as precision_lib
from ptb_rnn.model import softmax
from ptb_rnn.model.lstm import FusedLSTM
from ptb_rnn.spec import RunSpec

# One (h, c) pair per layer, each of shape (batch_size, hidden_size).
State = tuple[tuple[tf.Tensor, tf.Tensor], ...]


def build_model(spec: RunSpec, batch_size: int | None = None) -> "PTBModel":
    """The run's network, its weights created for batch_size rows (default: the run's).

    The one builder of a run's network: training, the echo task and the benchmark use
    it; a saved model is rebuilt from the same fields (`PTBModel.from_config`).
    """
    return PTBModel(
        spec.config,
        fused_lstm=spec.fused_lstm,
        fused_softmax=spec.softmax == "fused",
        precision=spec.precision,
        initializer=spec.initializer,
    ).build_for(spec.config.batch_size if batch_size is None else batch_size)


def replica_id() -> int:
    """This replica's index among a tf.distribute strategy's (0 outside one, or on one
    device); known when a replica's function is traced."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: not inside a replica
        return 0
    return int(tf.get_static_value(context.replica_id_in_sync_group))


class ReplicaDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose masks differ between the replicas of a strategy.

    The layer's seed state is a mirrored variable, the same on every replica, so every
    replica would draw the same mask for its rows (replicas.py). Replica r > 0 folds r
    into the seed; replica 0, and training on one device, draw exactly Keras's masks.
    """

    def call(self, inputs, training=False):
        replica = replica_id()
        if not training or self.rate == 0 or replica == 0:
            return super().call(inputs, training=training)
        seed = self.seed_generator.next()  # int64, as Keras keeps it
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)  # as Keras draws
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        return tf.nn.experimental.stateless_dropout(inputs, rate=self.rate, seed=seed)


@keras.saving.register_keras_serializable(package="ptb_rnn")
class PTBModel(keras.Model):
    """Embedding, stacked LSTMs and a softmax layer, as in `ptb_word_lm.py`.

    Every weight starts uniform in [-init_scale, init_scale] (the tutorial's global
    initializer), except the LSTM biases, which start at zero with no forget-gate
    offset (the tutorial's `forget_bias=0.0`; Keras would add 1 and use
    glorot/orthogonal kernels). Each weight is drawn on its own, as the tutorial's
    `tf.get_variable` calls draw them; see `initializer` for the other way.

    Args:
      config: the model's sizes and dropout.
      fused_lstm: compute the LSTMs with `FusedLSTM` (the same weights and
        mathematics, a faster gradient; see lstm.py) rather than `keras.layers.LSTM`.
      fused_softmax: the training loss computes the softmax layer and the loss
        together, with a hand-written gradient (`softmax.fused_sequence_loss`; see
        `softmax_loss`), rather than through this layer and automatic gradients.
      precision: "float32", or "mixed_bfloat16" for bfloat16 matmul inputs with
        everything else in float32 (see precision.py). It needs fused_lstm
        (`RunSpec.check_computation` refuses the pair; `keras.layers.LSTM` would stay
        float32).
    """

    def __init__(
        self,
        config: Config,
        fused_lstm: bool = True,
        fused_softmax: bool = False,
        precision: str = precision_lib.FLOAT32,
        initializer: str = "independent",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config
        self.fused_softmax = fused_softmax
        self.precision = precision
        self.initializer = initializer

        def uniform():
            """A uniform initializer: each one draws its own values (see `initializer`)."""
            return keras.initializers.RandomUniform(-config.init_scale, config.init_scale)

        shared = uniform() if initializer == "shared" else None

        def init():
            return shared if shared is not None else uniform()

        rate = 1.0 - config.keep_prob
        self.embedding = keras.layers.Embedding(
            config.vocab_size, config.hidden_size, embeddings_initializer=init()
        )
        self.input_dropout = ReplicaDropout(rate)
        lstm_class = FusedLSTM if fused_lstm else keras.layers.LSTM
        lstm_options = {"precision": precision} if fused_lstm else {}
        self.lstm_layers = [
            lstm_class(
                config.hidden_size,
                return_sequences=True,
                return_state=True,
                kernel_initializer=init(),
                recurrent_initializer=init(),
                bias_initializer="zeros",
                unit_forget_bias=False,
                name=f"lstm_{i}",
                **lstm_options,
            )
            for i in range(config.num_layers)
        ]
        # Dropout on each layer's output, as the tutorial's DropoutWrapper does.
        self.output_dropouts = [ReplicaDropout(rate) for _ in range(config.num_layers)]
        self.softmax = keras.layers.Dense(
            config.vocab_size, kernel_initializer=init(), bias_initializer=init()
        )

    def zero_state(self, batch_size: int) -> State:
        """All-zero (h, c) for every layer, each of shape (batch_size, hidden_size)."""
        zeros = tf.zeros([batch_size, self.config.hidden_size])
        return tuple((zeros, zeros) for _ in range(self.config.num_layers))

    def call(self, ids, state: State, training: bool = False):
        """Runs one window.

        Args:
          ids: int ids, shape (batch_size, num_steps).
          state: the initial (h, c) of each layer, each (batch_size, hidden_size).
          training: applies dropout when true.

        Returns:
          (logits, final_state): logits of shape (batch_size, num_steps, vocab_size)
          and the (h, c) of each layer after the last step.
        """
        outputs, final_state = self.lstm_outputs(ids, state, training=training)
        return self.logits(outputs), final_state  # (B, T, V)

    def lstm_outputs(self, ids, state: State, training: bool = False):
        """Runs one window up to the softmax layer: `call` without the logits.

        Returns:
          (outputs, final_state): the last LSTM layer's outputs after dropout, shape
          (batch_size, num_steps, hidden_size), and the (h, c) of each layer.
        """
        outputs = self.input_dropout(self.embedding(ids), training=training)  # (B, T, H)
        final_state = []
        for lstm, dropout, (h, c) in zip(self.lstm_layers, self.output_dropouts, state):
            outputs, h, c = lstm(outputs, initial_state=[h, c])
            outputs = dropout(outputs, training=training)
            final_state.append((h, c))
        return outputs, tuple(final_state)

    def logits(self, outputs):
        """The softmax layer: logits (B, T, V) from the last LSTM outputs (B, T, H)."""
        if self.precision == precision_lib.FLOAT32:
            return self.softmax(outputs)
        if not self.softmax.built:  # where its first call would build it
            self.softmax.build(outputs.shape)
        kernel, bias = self.softmax.kernel, self.softmax.bias
        return precision_lib.einsum("bth,hv->btv", outputs, kernel, self.precision) + bias

    def softmax_loss(self, outputs, targets):
        """The tutorial's loss of the softmax layer on the last LSTM layer's outputs:
        `softmax.sequence_loss` of the logits.

        With fused_softmax the layer and the loss are one function with a hand-written
        gradient (`softmax.fused_sequence_loss`): the same loss, to float32 rounding, as
        the logits through `sequence_loss` and automatic gradients.

        Args:
          outputs: (batch_size, num_steps, hidden_size), from `lstm_outputs`.
          targets: int ids, (batch_size, num_steps).

        Returns:
          A scalar: the batch-mean cross-entropy summed over the steps (nats).
        """
        if self.fused_softmax:
            kernel, bias = self.softmax.kernel, self.softmax.bias
            return softmax.fused_sequence_loss(outputs, kernel, bias, targets, self.precision)
        return softmax.sequence_loss(self.logits(outputs), targets)

    def forward_flops_per_word(self) -> int:
        """FLOPs of the forward pass per word: 2 per weight of every matrix it meets.

        The embedding is a lookup (no arithmetic); biases, gate activations and the
        softmax normalisation are left out. Backward costs about twice as much (gradients
        for the inputs and for the weights), so training costs about 3x this.
        """
        matrices = [self.softmax.kernel]
        for layer in self.lstm_layers:
            matrices += [layer.cell.kernel, layer.cell.recurrent_kernel]
        return sum(2 * int(np.prod(matrix.shape)) for matrix in matrices)

    def build_for(self, batch_size: int = 1) -> "PTBModel":
        """Creates the weights by running one step on zeros."""
        self(tf.zeros([batch_size, 1], tf.int32), self.zero_state(batch_size))
        return self

    def get_config(self) -> dict:
        """What `from_config` rebuilds the model from: its Config, as a dict, and options."""
        return {
            **super().get_config(),
            "config": dataclasses.asdict(self.config),
            "fused_lstm": isinstance(self.lstm_layers[0], FusedLSTM),
            "fused_softmax": self.fused_softmax,
            "precision": self.precision,
            "initializer": self.initializer,
        }

    @classmethod
    def from_config(cls, config: dict) -> "PTBModel":
        config = dict(config)
        return cls(Config(**config.pop("config")), **config)

    def get_build_config(self) -> dict | None:
        """Tells `keras.saving.load_model` to build the model before loading its weights.

        Keras's own build cannot call a model that takes (ids, state): without this, a
        reloaded model would keep its random initial weights, with only a warning.
        """
        return {"batch_size": 1} if self.built else None

    def build_from_config(self, config: dict) -> None:
        self.build_for(config["batch_size"])
