"""Training data, one job per module.

- :mod:`~vidgan.train.data.files`: finding images, videos and frame folders
- :mod:`~vidgan.train.data.images`: decoding and resizing images
- :mod:`~vidgan.train.data.crops`: random crops of resident image folders (style and content)
- :mod:`~vidgan.train.data.motion`: synthetic frame pairs with known motion
- :mod:`~vidgan.train.data.video`: real frame pairs from clips, with DIS flow
- :mod:`~vidgan.train.data.triplets`: frame triplets for interpolation training
- :mod:`~vidgan.train.data.paired`: (photo, painted) pairs of a distilled style
- :mod:`~vidgan.train.data.flow`: the DIS flow all of them use
"""

from vidgan.errors import TrainingDataError
from vidgan.io.images import fit_short_side, try_read_image
from vidgan.train.data.crops import ImageCrops
from vidgan.train.data.files import IMAGE_SUFFIXES, VIDEO_SUFFIXES, find_images, find_sequences
from vidgan.train.data.motion import MotionConfig, MotionPair, Occluder, render_pair, synthetic_batch, synthetic_pair
from vidgan.train.data.video import VideoPairs

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "ImageCrops",
    "MotionConfig",
    "MotionPair",
    "Occluder",
    "TrainingDataError",
    "VideoPairs",
    "find_images",
    "find_sequences",
    "fit_short_side",
    "try_read_image",
    "render_pair",
    "synthetic_batch",
    "synthetic_pair",
]
