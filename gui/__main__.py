"""``python -m gui`` runs the ``opscope`` command."""

from __future__ import annotations

import sys

from gui.cli import main

sys.exit(main())
