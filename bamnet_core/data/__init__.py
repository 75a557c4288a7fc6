"""Datasets: reading sources, splitting by patient, decoding into arrays, auditing, fetching.

Decoded images and fingerprints are cached (:mod:`.image_cache`,
:mod:`.fingerprints`), so a second run or audit of the same files decodes
nothing. Nothing here imports TensorFlow.
"""
