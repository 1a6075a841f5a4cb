from vizvm.cli import main

raise SystemExit(main())
