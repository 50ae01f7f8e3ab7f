"""The TensorFlow PTB language-model tutorial in TF 2 and Keras 3 (see README.md).

`import ptb_rnn` is enough for `keras.saving.load_model` to load a training run's
model.keras: it registers the model's Keras classes (language_model.py) as soon as
Keras is imported, at once if it already is, else right after it is. The package does
not import Keras or TensorFlow itself: its command-line tools check their input first,
since importing TensorFlow writes start-up lines to stderr.
"""

import importlib
import importlib.abc
import sys

_REGISTERS_CLASSES = "ptb_rnn.language_model"


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds `keras` as the other finders do, and imports _REGISTERS_CLASSES once it has
    run (TensorFlow looks Keras up without importing it, and imports it later)."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None:
            return spec
        exec_keras = spec.loader.exec_module

        def exec_keras_then_register(module):
            exec_keras(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            importlib.import_module(_REGISTERS_CLASSES)

        spec.loader.exec_module = exec_keras_then_register
        return spec


if "keras" in sys.modules:
    importlib.import_module(_REGISTERS_CLASSES)
else:
    sys.meta_path.insert(0, _AfterKerasImport())
