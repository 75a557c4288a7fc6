"""bamnet as a DICOM node: ``bamnet listen`` receives images by C-STORE and scores them.

``queue`` keeps what arrived on disk until it is scored, ``scp`` is the Storage SCP
(pynetdicom) that accepts only the configured senders and image SOP classes, ``sender``
sends Structured Reports back by C-STORE, and ``listener`` ties them to the scoring
engine of ``bamnet score`` (:mod:`bamnet_core.score`). docs/hospital.md is the guide.
"""
