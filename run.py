"""The one command an operator runs: ``.venv/bin/python run.py`` from a checkout.

The same as the ``.venv/bin/haven`` console script (see ``--help``).
"""

import sys

from onion_app.serving.cli import main

if __name__ == "__main__":
    sys.exit(main())
