"""Allow `python -m auditor` as an alias of the `camaudit` console script."""

from auditor.cli.app import main

raise SystemExit(main())
