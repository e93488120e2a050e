"""`python -m bot` runs the same command line as `stormbot`."""

import sys

from bot.cli import main

sys.exit(main())
