"""``python -m harness``: the ``opx-harness`` command without the installed script."""

from harness.cli import main

raise SystemExit(main())
