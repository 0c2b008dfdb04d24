from actioncore.cli import main

raise SystemExit(main())
