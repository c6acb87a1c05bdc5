"""`python -m hatui` runs the command line."""

from hatui.cli import main

raise SystemExit(main())
