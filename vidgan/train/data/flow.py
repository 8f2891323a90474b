"""The classical optical flow training uses as a teacher and for real frame pairs: OpenCV DIS.

The one train-side place that builds a DIS instance, so every training flow uses the same preset.
"""

from __future__ import annotations

import cv2

#: Medium: the preset VideoPairs and the interpolation teacher were tuned with.
TRAINING_DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def dis_flow() -> cv2.DISOpticalFlow:
    """A new DIS instance (it keeps per-call state: one per thread)."""
    return cv2.DISOpticalFlow_create(TRAINING_DIS_PRESET)
