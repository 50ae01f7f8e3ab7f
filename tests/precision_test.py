import tensorflow as tf

from ptb_rnn.model import precision

# 1 + 2^-10 needs 11 bits of mantissa: float32 keeps it, bfloat16 (8 bits) reads it as 1.
ONE_AND_A_BIT = 1.0 + 2**-10


class MatmulTest(tf.test.TestCase):
    def test_float32_is_tf_matmul(self):
        product = precision.matmul(tf.constant([[ONE_AND_A_BIT]]), tf.ones([1, 1]), "float32")
        self.assertEqual(float(product[0, 0]), ONE_AND_A_BIT)

    def test_mixed_bfloat16_rounds_the_inputs_and_returns_float32(self):
        a, b = tf.constant([[ONE_AND_A_BIT, 2.0]]), tf.constant([[1.0], [1.0]])
        product = precision.matmul(a, b, "mixed_bfloat16")
        self.assertEqual(product.dtype, tf.float32)
        self.assertEqual(float(product[0, 0]), 3.0)

    def test_einsum_rounds_the_inputs_too(self):
        a = tf.fill([1, 1, 1], ONE_AND_A_BIT)
        product = precision.einsum("bti,ij->btj", a, tf.ones([1, 1]), "mixed_bfloat16")
        self.assertEqual(product.dtype, tf.float32)
        self.assertEqual(float(product[0, 0, 0]), 1.0)


class UseXlaTest(tf.test.TestCase):
    def test_bfloat16_matmuls_run_outside_xla(self):
        self.assertTrue(precision.use_xla("float32"))
        self.assertFalse(precision.use_xla("mixed_bfloat16"))


if __name__ == "__main__":
    tf.test.main()
