"""The figures of `vizvm bench`, printed as a table (the same measurements, one run).

    python benchmarks/bench.py            # full sizes: about a minute
    python benchmarks/bench.py --quick    # small sizes, rough figures
    python benchmarks/bench.py --save     # also write benchmarks/results/<cpu>-<host>.json

The committed results (benchmarks/results/) name the machine they ran on;
docs/performance.md reads them against the goals of issue 6.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from vizvm.cli.bench import report
from vizvm.session import benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    doc = benchmark.measure(quick=args.quick)
    print(report(doc))
    if args.save:
        machine = doc["machine"]
        name = re.sub(r"[^a-z0-9]+", "-", f"{machine['cpu']}-{machine['host']}".lower())
        path = Path(__file__).parent / "results" / f"{name.strip('-')}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
