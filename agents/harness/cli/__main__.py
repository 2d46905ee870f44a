"""``python -m agents.harness.cli``: the same as ``ipd-coop``."""
import sys

from agents.harness.cli import main

sys.exit(main())
