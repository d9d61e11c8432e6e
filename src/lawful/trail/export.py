"""The bundle for an external auditor: entries, signed heads, the trust-anchor public key, a manifest pinning its
fingerprint, and a stand-alone verifier (`python verify.py [--public-key KEY.pub] [--witness PATH]`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.settings import Settings
from lawful.trail import chain, keys
from lawful.trail.verifier import write_verifier
from lawful.trail.audit import all_checkpoints, iter_entries


@dataclass(frozen=True)
class Bundle:
    path: Path
    entries: int
    checkpoints: int
    head_seq: int
    head_hash: str
    fingerprint: str




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
    write_verifier(out_dir)
    (out_dir / "README.txt").write_text(
        "Lawful decision-trail export.\n\n"
        f"{n} entries (head {head[0]}: {head[1]}), {len(cps)} signed heads.\n"
        f"The trail's key: fingerprint {manifest['fingerprint']} (manifest.json); compare it with the one the "
        "agency published.\n\n"
        "Verify with the agency's public key, obtained separately, and its published heads if it has a witness:\n"
        "    pip install cryptography\n    python verify.py --public-key trail.pub [--witness HEADS]\n\n"
        "The encoding is described at the top of lawful_chain.py; you can re-implement it from that text alone.\n")
    return Bundle(out_dir, n, len(cps), head[0], head[1], manifest["fingerprint"])
