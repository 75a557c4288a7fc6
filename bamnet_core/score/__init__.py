"""Scoring with onnxruntime: open a bamnet ONNX model, stream files through it, write rows.

Never imports TensorFlow, Keras or anything of ``train`` and ``export`` (an
import-linter contract checks it), so ``bamnet score`` starts in well under a
second.
"""
