"""``python -m eksplatform.preview``: same as the ``eksplatform-preview`` command."""

from .cli import main

raise SystemExit(main())
