"""`python -m bench` runs every bench; `python -m bench NAME [options]` runs one (options go to it).

Each bench is a module with `main(argv: list[str] | None)`; add yours to BENCHES.
"""

from __future__ import annotations

import importlib
import sys

#: name → module. Imported only when run, so one bench's heavy dependencies never slow another.
BENCHES: dict[str, str] = {
    "retrieval": "bench.retrieval_bench",
    "slack": "bench.slack_bench",
    "llm": "bench.llm_bench",
    "load": "bench.load_bench",
    "store": "bench.store_bench",
    "register": "bench.register_bench",
}


def run(name: str, argv: list[str]) -> None:
    module = importlib.import_module(BENCHES[name])
    module.main(argv)


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(__doc__)
        print("benches:", ", ".join(BENCHES))
        return 0
    if not argv:
        for name in BENCHES:
            print(f"=== bench {name}", flush=True)
            run(name, [])
        return 0
    name, rest = argv[0], argv[1:]
    if name not in BENCHES:
        print(f"Unknown bench {name!r}: choose one of {', '.join(BENCHES)}.", file=sys.stderr)
        return 2
    run(name, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
