"""``python -m vidgan``: the same as the ``vidgan`` command."""

import sys

from vidgan.cli import main

sys.exit(main())
