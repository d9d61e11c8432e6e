"""The keys a streamed load remembers (validate.SeenKeys): time and peak memory for N million distinct keys.

    .venv/bin/python benchmarks/bench_keys.py [--millions 2.4 24] [--chunk 35000] [--repeat 0.1]

Feeds random 80-bit digests (what a content-keyed mapping such as the Toronto one makes) in chunks of `--chunk`
rows, with a share `--repeat` of each chunk repeating earlier keys, each N in a fresh process: seconds, microseconds
a key, peak resident memory (the process's own, a baseline of numpy and pandas included), and how many keys went to
files. Issue 16's target: memory under 500 MB for any file; the time should grow as n log n, not n squared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402


def one(millions: float, chunk: int, repeat: float) -> dict:
    import resource

    import numpy as np

    from lawful.incidents.validate import SeenKeys

    n = int(millions * 1e6)
    rng = np.random.default_rng(7)
    seen = SeenKeys()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    row, made, last = 2, 0, None
    while made < n:
        fresh = min(chunk, n - made)
        digests = rng.integers(0, 256, size=(fresh, 10), dtype=np.uint8)
        if last is not None and repeat:
            again = last[rng.integers(0, len(last), size=int(fresh * repeat))]
            digests = np.concatenate([digests, again])
        seen.observe_digests(digests, np.arange(row, row + len(digests)))
        row += len(digests)
        made += fresh
        last = digests[:fresh]
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"keys": len(seen), "seconds": seconds, "peak_mb": peak, "baseline_mb": base, "spilled": seen.spilled,
            "runs": len(seen.runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--millions", type=float, nargs="+", default=[2.4, 24.0], help="distinct keys, in millions")
    ap.add_argument("--chunk", type=int, default=35_000, help="new keys a chunk (a 4 MB CSV block is about 35,000)")
    ap.add_argument("--repeat", type=float, default=0.1, help="share of a chunk that repeats keys already seen")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.chunk, args.repeat)))
        return
    print(f"machine: {machine()}")
    for m in args.millions:
        out = subprocess.run([sys.executable, __file__, "--one", str(m), "--chunk", str(args.chunk), "--repeat",
                              str(args.repeat)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr[-2000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['keys']:>12,} keys: {r['seconds']:7.2f} s ({r['seconds'] / r['keys'] * 1e6:.2f} us a key), peak "
              f"{r['peak_mb']:6.0f} MB (baseline {r['baseline_mb']:.0f} MB), {r['spilled']:,} keys in files, "
              f"{r['runs']} runs", flush=True)


if __name__ == "__main__":
    main()
