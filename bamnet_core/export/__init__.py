"""Export: a trained Keras model to a self-describing ONNX file, checked by a parity gate,
with optional int8 and fp16 variants."""
