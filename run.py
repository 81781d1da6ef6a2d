"""The one command an operator runs: ``python run.py`` (see ``--help``)."""

import sys

from onion_app.serving.cli import main

if __name__ == "__main__":
    sys.exit(main())
