"""Training with Keras 3: optimizer and seeds, the tf.data pipeline, augmentation,
checkpoints that resume, and the cached features of a frozen backbone.

Keras is imported inside functions: importing this package stays cheap.
"""
