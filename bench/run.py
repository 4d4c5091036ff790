"""``make bench``: unary gRPC and HTTP/JSON throughput of Agora against a bare echo server.

The code is the package ``bench/agora_bench`` (its docstring lists the modules); this
script is its entry point. See docs/benchmarks.md.

    python bench/run.py                        # measure, print, write docs/benchmarks.md
    python bench/run.py --no-mesh --no-write   # echo baselines only, print only
    python bench/run.py --data-dir D           # use a mesh already up in D (left running)
"""

from __future__ import annotations

import sys

from agora_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
