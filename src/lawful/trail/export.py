"""The bundle for an external auditor: entries, signed heads, the trust-anchor public key, a manifest pinning its
fingerprint, and a stand-alone verifier (`python verify.py [--public-key KEY.pub] [--witness PATH]`)."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.settings import Settings
from lawful.trail import chain, keys
from lawful.trail.audit import all_checkpoints, iter_entries


@dataclass(frozen=True)
class Bundle:
    path: Path
    entries: int
    checkpoints: int
    head_seq: int
    head_hash: str
    fingerprint: str


VERIFY_PY = '''"""Verify a Lawful trail export with the public key alone:

    python verify.py [--public-key trail.pub] [--witness HEADS.jsonl-or-DIR]

Needs Python 3.10+ and the `cryptography` package; not Lawful. lawful_chain.py is Lawful's own verifier, copied.
The public key must be the key the trail was started with, obtained from the agency, not only from this bundle;
--witness adds the heads the agency published outside its own machines, so a trail cut short since is named.
"""
import argparse
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))  # lawful_chain.py sits next to this file, wherever it is run from
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


def export(session: Session, *, settings: Settings, out_dir: Path) -> Bundle:
    """Write entries, signed heads, the trust-anchor public key, a manifest and a stand-alone verifier."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise LawfulError(f"{out_dir} is not empty", "give a new or empty directory for the bundle")
    out_dir.mkdir(parents=True, exist_ok=True)
    fields = ("seq", "at_us", "actor", "action", "object", "purpose", "details", "prev_hash", "hash")
    n = 0
    head = (0, chain.GENESIS)
    with open(out_dir / "entries.jsonl", "w", encoding="utf-8") as f:
        for row in iter_entries(session):
            f.write(json.dumps(dict(zip(fields, row)), ensure_ascii=False) + "\n")
            n, head = n + 1, (row[0], row[8])
    cps = all_checkpoints(session, settings)
    with open(out_dir / "checkpoints.jsonl", "w", encoding="utf-8") as f:
        for c in cps:
            f.write(json.dumps(dict(zip(("seq", "hash", "at_us", "key_id", "signature", "source"), c))) + "\n")
    anchor = keys.trust_anchor(settings)
    current = keys.signing_key(settings).public_key()
    manifest = {"format": "lawful-trail-export-v1", "entries": n, "head_seq": head[0], "head_hash": head[1],
                "signed_heads": len(cps), "fingerprint": chain.fingerprint(anchor), "key_id": chain.key_id(anchor),
                "current_fingerprint": chain.fingerprint(current), "first_checkpoint_key_id": cps[0][3] if cps else None}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out_dir / "trail.pub").write_bytes(keys.public_pem(anchor))
    (out_dir / "lawful_chain.py").write_text(inspect.getsource(chain))
    (out_dir / "verify.py").write_text(VERIFY_PY)
    (out_dir / "README.txt").write_text(
        "Lawful decision-trail export.\n\n"
        f"{n} entries (head {head[0]}: {head[1]}), {len(cps)} signed heads.\n"
        f"The trail's key: fingerprint {manifest['fingerprint']} (manifest.json); compare it with the one the "
        "agency published.\n\n"
        "Verify with the agency's public key, obtained separately, and its published heads if it has a witness:\n"
        "    pip install cryptography\n    python verify.py --public-key trail.pub [--witness HEADS]\n\n"
        "The encoding is described at the top of lawful_chain.py; you can re-implement it from that text alone.\n")
    return Bundle(out_dir, n, len(cps), head[0], head[1], manifest["fingerprint"])
