"""Training with Keras 3: optimizer and seeds, the input pipeline (any backend), augmentation,
checkpoints that resume, and the cached features of a frozen backbone.

Keras is imported inside functions: importing this package stays cheap.
"""
