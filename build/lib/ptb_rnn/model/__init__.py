"""The model: the network and its parts, and the trained model with its vocabulary.

    network.py         PTBModel: embedding -> LSTMs -> softmax, the state in and out
    lstm.py            FusedLSTM: keras.layers.LSTM's mathematics, a faster gradient
    softmax.py         the softmax layer and the loss in one function (--softmax=fused)
    precision.py       matmuls in float32 or with bfloat16 inputs (--precision)
    language_model.py  LanguageModel: the network and its vocabulary, saved as model.keras
    keras_file.py      a model.keras found and checked without TensorFlow
    sampling.py        drawing words from a LanguageModel
    serving.py         the TF SavedModel with the state as explicit inputs and outputs

keras_file.py and sampling.py import no TensorFlow (this file imports nothing), so
the tools can check their input before TensorFlow starts.
"""
