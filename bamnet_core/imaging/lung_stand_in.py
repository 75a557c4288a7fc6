"""A stand-in for the lung-field estimator's function on one decoded image: a fixed shape.

Two ellipses where the lungs of a frontal chest X-ray sit (each centred a sixth of
the width from the middle, at mid-height; 0.16 of the width across and 0.32 of
the height up and down from the centre), the same for every image. It never
looks at the pixels, so it cannot grow or shrink with an opacity; it also cannot
follow a patient who stands off-centre. The image properties take their
statistics outside these fields, dilated (:mod:`.properties`), so a shape that
roughly covers the lungs is enough there.

Only :mod:`.properties` imports it, in one line, to be replaced by the lung-field
estimator's own function for one image when that exists.
"""

from __future__ import annotations

import numpy as np

CENTRES = ((1 / 3, 0.5), (2 / 3, 0.5))  # (x, y), as shares of the width and height
AXES = (0.16, 0.32)  # half-width and half-height, as shares of the width and height


def field_of_image(gray: np.ndarray) -> np.ndarray:
    """The lung fields of one decoded greyscale image ``(h, w)``: a bool ``(h, w)`` mask,
    True inside the lungs; here a fixed shape that ignores the pixels."""
    h, w = gray.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    x, y = (xx + 0.5) / w, (yy + 0.5) / h
    field = np.zeros((h, w), dtype=bool)
    for cx, cy in CENTRES:
        field |= ((x - cx) / AXES[0]) ** 2 + ((y - cy) / AXES[1]) ** 2 <= 1.0
    return field
