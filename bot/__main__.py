"""`python -m bot` runs the same command line as `walmart-bot`."""

from bot.cli import main

raise SystemExit(main())
