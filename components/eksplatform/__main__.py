"""``python -m eksplatform``: the ``eksplatform`` command (see :mod:`eksplatform.cli`)."""

from .cli import main

raise SystemExit(main())
