"""``python -m redirectware``: the same as the ``redirectware`` console script."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
