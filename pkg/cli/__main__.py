"""``python -m pkg.cli``: the ``agora`` command."""

import sys

from pkg.cli.main import main

sys.exit(main())
