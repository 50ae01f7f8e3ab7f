"""The benchmark's matmul roof: the window's matmuls at their real sizes."""

import helpers
from absl.testing import absltest

from ptb_rnn.bench import measure
from ptb_rnn.config import get_config
from ptb_rnn.model.network import PTBModel


class WindowMatmulsTest(absltest.TestCase):
    def test_the_test_configs_window_by_hand(self):
        # batch 20, 2 steps, 2 units, 10000 words, one layer: B*T = 40, 4H = 8.
        self.assertEqual(
            measure.window_matmuls(get_config("test")),
            {
                (40, 2, 8): 1,  # input projection
                (20, 2, 8): 2,  # recurrent product, each of the 2 steps
                (20, 8, 2): 2,  # gradient into h, each step
                (2, 40, 8): 2,  # kernel and recurrent kernel gradients
                (40, 8, 2): 1,  # input gradient
                (40, 2, 10000): 1,  # logits
                (40, 10000, 2): 1,  # gradient into the LSTM outputs
                (2, 40, 10000): 1,  # softmax kernel gradient
            },
        )

    def test_add_up_to_three_forward_passes(self):
        # Backward costs twice the forward pass: 3x the model's forward FLOPs per word.
        config = get_config("medium")
        matmuls = measure.window_matmuls(config)
        flops = sum(2 * m * k * n * count for (m, k, n), count in matmuls.items())
        words = config.batch_size * config.num_steps
        model = PTBModel(config).build_for(1)
        self.assertEqual(flops, 3 * model.forward_flops_per_word() * words)

    def test_products_of_the_same_shape_all_count(self):
        # num_steps 1: the input projection and the recurrent product are both [20, 2] x
        # [2, 8], the input gradient and the gradient into h both [20, 8] x [8, 2].
        matmuls = measure.window_matmuls(get_config("test", num_steps=1))
        self.assertEqual(matmuls[20, 2, 8], 2)
        self.assertEqual(matmuls[20, 8, 2], 2)

    def test_roof_is_the_sum_of_the_matmuls_times(self):
        config = helpers.tiny_config()
        roof = measure.matmul_roof(config, "mixed_bfloat16")
        seconds = sum(
            row["count"]
            * 2
            * row["shape"][0]
            * row["shape"][1]
            * row["shape"][2]
            / (row["gflops"] * 1e9)
            for row in roof["matmuls"]
        )
        self.assertAlmostEqual(roof["window_seconds"], seconds)
        self.assertAlmostEqual(
            roof["words_per_second"], config.batch_size * config.num_steps / seconds
        )


if __name__ == "__main__":
    absltest.main()
