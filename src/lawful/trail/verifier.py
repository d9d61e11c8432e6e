"""The stand-alone verifier an export carries (verify.py and lawful_chain.py, Lawful's own chain code), and the
one place that writes them. `lawful audit verify --public-key` writes them again over a downloaded export before
running it: the auditor's check runs the code installed on the auditor's machine, never code the server sent.
Pure: no database."""

from __future__ import annotations

import inspect
from pathlib import Path

from lawful.trail import chain

# The first lines of every stand-alone checker Lawful ships (verify.py here, check_pack.py in an audit pack).
IMPORT_GUARD = '''import os
import sys

# Nothing from this folder shadows the standard library or cryptography (a planted json.py or hashlib.py would run
# before any check): its own directory leaves the import path before anything else is imported.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
'''

VERIFY_PY = '''"""Verify a Lawful trail export with the public key alone:

    python verify.py [--public-key trail.pub] [--witness HEADS.jsonl-or-DIR]

Needs Python 3.10+ and the `cryptography` package; not Lawful. lawful_chain.py is Lawful's own verifier, copied.
The public key must be the key the trail was started with, obtained from the agency, not only from this bundle;
--witness adds the heads the agency published outside its own machines, so a trail cut short since is named.
"""
''' + IMPORT_GUARD + '''import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from cryptography.hazmat.primitives.serialization import load_pem_public_key

here = Path(__file__).resolve().parent
sys.path.append(str(here))  # lawful_chain.py sits next to this file; last, so it shadows nothing
import lawful_chain  # noqa: E402
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--public-key", type=Path, default=here / "trail.pub",
                    help="the trail's original Ed25519 public key (PEM); obtain it from the agency")
parser.add_argument("--witness", type=Path, help="published heads: a JSON-lines file or a directory of JSON files")
args = parser.parse_args()
key = load_pem_public_key(args.public_key.read_bytes())
fields = ("seq", "at_us", "actor", "action", "object", "purpose", "details", "prev_hash", "hash")


def entries():
    with open(here / "entries.jsonl", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            yield tuple(e[k] for k in fields)


with open(here / "checkpoints.jsonl", encoding="utf-8") as f:
    checkpoints = [tuple(c[k] for k in ("seq", "hash", "at_us", "key_id", "signature")) + (c.get("source", "checkpoint"),)
                   for c in map(json.loads, f)]
if args.witness:
    try:
        checkpoints += lawful_chain.read_witness(args.witness)
    except ValueError as exc:
        print(f"error: {exc}")
        sys.exit(2)
manifest = json.loads((here / "manifest.json").read_text(encoding="utf-8"))
given = lawful_chain.fingerprint(key)
print(f"key: {given}" + ("" if given == manifest["fingerprint"] else
                         f" (the bundle's manifest names {manifest['fingerprint']})"))
v = lawful_chain.verify(entries(), checkpoints, key)
if v.ok:
    print(f"OK: {v.entries} entries, head {v.head_seq} {v.head_hash}, {v.checkpoints} signed heads checked")
    sys.exit(0)
for p in sorted(v.problems, key=lambda p: p.seq):
    print(f"entry {p.seq}: {p.kind}: {p.text}")
sys.exit(1)
'''


def write_verifier(directory: Path) -> None:
    """verify.py and lawful_chain.py, from this installation, into `directory` (replacing any there)."""
    (directory / "lawful_chain.py").write_text(inspect.getsource(chain))
    (directory / "verify.py").write_text(VERIFY_PY)
