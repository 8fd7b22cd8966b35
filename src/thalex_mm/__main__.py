from thalex_mm.cli import main

raise SystemExit(main())
