"""``python -m audit`` is ``model-audit``."""

import sys

from .cli import main

sys.exit(main())
