"""Images: file formats, decoding (raster and DICOM), and the one preprocessing definition.

Training, export and scoring all decode with :func:`decode.decode_image` and
preprocess with :class:`preprocess.PreprocessSpec`, so they see identical
pixels by construction. Nothing here imports TensorFlow.
"""
