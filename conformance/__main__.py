"""`python -m conformance [options]`: the same as `mockserver conformance` (see runner.py)."""

import sys

from conformance.runner import main

sys.exit(main())
