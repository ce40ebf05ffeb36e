"""`python -m rewardlang.cli ...`: the `rewardc` command."""

import sys

from rewardlang.cli import main

sys.exit(main())
