"""`python -m sflow.cli` runs the `sflow` command."""

import sys

from sflow.cli import main

sys.exit(main())
