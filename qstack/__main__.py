"""``python -m qstack``: the ``qstack`` command line (:func:`qstack.cli.main`)."""

import sys

from qstack.cli import main

if __name__ == "__main__":
    sys.exit(main())
