import numpy as np
import tensorflow as tf

from ptb_rnn.config import get_config
from ptb_rnn.model.network import PTBModel


class ModelTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.config = get_config("small", hidden_size=8, vocab_size=30, num_layers=2)
        self.model = PTBModel(self.config).build_for(3)

    def test_shapes(self):
        logits, state = self.model(tf.zeros([3, 5], tf.int32), self.model.zero_state(3))
        self.assertEqual(logits.shape, (3, 5, 30))
        self.assertLen(state, 2)
        for h, c in state:
            self.assertEqual(h.shape, (3, 8))
            self.assertEqual(c.shape, (3, 8))

    def test_eval_batch_size_can_differ(self):
        logits, _ = self.model(tf.zeros([1, 7], tf.int32), self.model.zero_state(1))
        self.assertEqual(logits.shape, (1, 7, 30))

    def test_initial_weights(self):
        for weight in self.model.weights:
            values = weight.numpy()
            if "bias" in weight.path and "lstm" in weight.path:
                # LSTM biases, forget gate included, start at exactly zero.
                self.assertAllEqual(values, np.zeros_like(values))
            else:
                self.assertLessEqual(np.abs(values).max(), self.config.init_scale, weight.path)
                self.assertGreater(np.abs(values).max(), 0.5 * self.config.init_scale, weight.path)
        # embedding, 2 x (kernel, recurrent kernel, bias), softmax kernel and bias
        self.assertLen(self.model.weights, 9)

    def test_every_weight_is_drawn_on_its_own(self):
        # hidden_size 8 = input size: both kernels of both layers are [8, 32].
        leading = [w.numpy().ravel()[:4] for w in self.model.weights if "lstm" not in w.path]
        kernels = [w.numpy() for w in self.model.weights if "kernel" in w.path and "lstm" in w.path]
        self.assertLen(kernels, 4)
        for i in range(4):
            for j in range(i):
                self.assertNotAllClose(kernels[i], kernels[j])
        # embedding, softmax kernel and bias: no two start with the same values.
        self.assertLen(leading, 3)
        for i in range(3):
            for j in range(i):
                self.assertNotAllClose(leading[i], leading[j])

    def test_shared_initializer_starts_every_weight_with_the_same_values(self):
        # How the runs recorded before the independent draws were initialised.
        model = PTBModel(self.config, initializer="shared").build_for(3)
        kernels = [w.numpy() for w in model.weights if "kernel" in w.path and "lstm" in w.path]
        for kernel in kernels[1:]:
            self.assertAllEqual(kernel, kernels[0])
        embedding, softmax_bias = model.weights[0].numpy(), model.weights[-1].numpy()
        self.assertAllEqual(embedding.ravel()[:30], softmax_bias)

    def test_the_seed_decides_the_initial_weights(self):
        def weights(seed):
            tf.keras.utils.set_random_seed(seed)
            return [w.numpy() for w in PTBModel(self.config).build_for(1).weights]

        for first, again in zip(weights(3), weights(3)):
            self.assertAllEqual(first, again)
        self.assertNotAllClose(weights(3)[0], weights(4)[0])

    def test_carried_state_changes_output_and_zero_state_restores_it(self):
        ids = tf.constant([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        first, state = self.model(ids, self.model.zero_state(3))
        carried, _ = self.model(ids, state)
        reset, _ = self.model(ids, self.model.zero_state(3))
        self.assertNotAllClose(first, carried)
        self.assertAllEqual(first, reset)

    def test_dropout_only_in_training(self):
        model = PTBModel(get_config("medium", hidden_size=8, vocab_size=30)).build_for(2)
        ids = tf.constant([[1, 2], [3, 4]])
        inference = [model(ids, model.zero_state(2))[0] for _ in range(2)]
        self.assertAllEqual(inference[0], inference[1])
        training, _ = model(ids, model.zero_state(2), training=True)
        self.assertNotAllClose(inference[0], training)


class PrecisionTest(tf.test.TestCase):
    def test_mixed_bfloat16_logits_and_state_are_float32(self):
        config = get_config("small", hidden_size=8, vocab_size=30)
        model = PTBModel(config, precision="mixed_bfloat16").build_for(3)
        logits, state = model(tf.zeros([3, 5], tf.int32), model.zero_state(3))
        self.assertEqual(logits.dtype, tf.float32)
        for h, c in state:
            self.assertEqual((h.dtype, c.dtype), (tf.float32, tf.float32))
        self.assertEqual({w.dtype for w in model.weights}, {"float32"})


class FlopsTest(tf.test.TestCase):
    def test_small_config_flops_per_word(self):
        model = PTBModel(get_config("small")).build_for(1)
        # softmax 2*200*10000 + 2 layers x 2*(200*800 + 200*800) = 4,000,000 + 1,280,000
        self.assertEqual(model.forward_flops_per_word(), 5_280_000)


if __name__ == "__main__":
    tf.test.main()
