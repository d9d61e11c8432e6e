"""The annual audit pack: for one calendar year (UTC), everything an external auditor needs, as one zip they can
check offline.

    register/      the register as it stood at the year's end, as it stands now, and its changes
    models/        every model card (Markdown) and every approval, with the approvers' names
    monitoring/    the monitored figures now, every lifecycle move of the year (the breaker's included)
    serious-incidents.json, complaints.json, subject-requests.json, breaches.json   those of the year
    trail/         the whole trail export (entries, signed heads, public key, verify.py) and its verification
                   result when the pack was made, and the register's published daily heads of the year
    MANIFEST.json  every file's SHA-256 and size; MANIFEST.sig.json: the manifest signed (Ed25519) with the trail's
                   key; pack-public-key.pem: the key the register publishes (the trail's first key), from which
                   check_pack.py follows the trail's own key hand-overs to the signer; check_pack.py: the offline check

`python check_pack.py --public-key KEY.pem --witness heads.jsonl` (both from the register's trail page, not the pack)
checks the signature, every file's hash and then the trail with trail/verify.py. Needs Python 3.10+ and the
`cryptography` package, not Lawful.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from lawful.access.decide import Resource, require
from lawful.db import Store
from lawful.errors import InputError
from lawful.trail import audit, chain, keys
from lawful.trail import service as trail_service
from lawful.trail.verifier import IMPORT_GUARD

ACTION = "transparency.audit-pack"
LABEL = "lawful-audit-pack-v1"

CHECK_PY = '''"""Check a Lawful annual audit pack offline:

    python check_pack.py --public-key trail-public-key.pem --witness heads.jsonl

1. MANIFEST.sig.json is a valid Ed25519 signature of MANIFEST.json by the given key, or by the key the trail was
   handed over to since (each hand-over a trail.key entry vouched for by the key it replaces);
2. every file MANIFEST.json lists has the SHA-256 and size it states, and nothing else is in the pack;
3. the register's newest published head (--witness, fetched from the register, not the pack) is signed by the key
   that signed the pack, and the trail export in trail/ verifies (trail/verify.py) against every published head up
   to its end.
Needs Python 3.10+ and `cryptography`. Get the public key from the agency's register (its trail page), not only
from this pack: a pack signed by another key proves nothing.
"""
''' + IMPORT_GUARD + '''import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

sys.dont_write_bytecode = True  # nothing compiled is left in the pack (it would be a file the manifest does not list)
here = Path(__file__).resolve().parent
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--public-key", type=Path, default=here / "pack-public-key.pem",
                    help="the trail's published Ed25519 public key (PEM), from the agency's register")
parser.add_argument("--witness", type=Path, required=True,
                    help="the register's published heads (/public/trail/heads.jsonl), fetched apart from the pack: "
                         "the pack must be signed by the key that signs the newest of them, and its trail must hold "
                         "every one of them up to its end")
args = parser.parse_args()
given = load_pem_public_key(args.public_key.read_bytes())
# Lawful's chain code, the one trail/verify.py runs (an entry's hash, a signed head, a key id, the witness format),
# loaded by its path: the same pack as this file, so trusted as far as this file is
_spec = importlib.util.spec_from_file_location("lawful_chain", here / "trail" / "lawful_chain.py")
lawful_chain = sys.modules["lawful_chain"] = importlib.util.module_from_spec(_spec)  # (its dataclasses look it up)
_spec.loader.exec_module(lawful_chain)
FIELDS = ("seq", "at_us", "actor", "action", "object", "purpose", "details", "prev_hash")


def signed(key, signature, message):
    try:
        key.verify(bytes.fromhex(signature), message)
        return True
    except (InvalidSignature, ValueError):
        return False


def keys_in_force(anchor):
    """The given key, then each hand-over to a new key in trail/entries.jsonl (a trail.key entry) that a checkpoint
    of the key it replaces vouches for: the rule trail/verify.py applies. Returns (keys, problem or None)."""
    checkpoints = {}
    with open(here / "trail" / "checkpoints.jsonl", encoding="utf-8") as f:
        for c in map(json.loads, f):
            checkpoints.setdefault(c["seq"], []).append(c)
    found = [(0, anchor)]
    with open(here / "trail" / "entries.jsonl", encoding="utf-8") as f:
        for line in f:
            if '"trail.key"' not in line:
                continue
            e = json.loads(line)
            if e["action"] != lawful_chain.KEY_ACTION:
                continue
            seq, current = e["seq"], found[-1][1]
            own, kid = lawful_chain.entry_hash(*(e[k] for k in FIELDS)), lawful_chain.key_id(current)
            try:
                d = json.loads(e["details"])
                new = Ed25519PublicKey.from_public_bytes(bytes.fromhex(d["public_key"]))
            except (ValueError, KeyError, TypeError):
                return found, f"entry {seq} is a key change that cannot be read"
            if own != e["hash"] or d.get("from_key_id") != kid or d.get("key_id") != lawful_chain.key_id(new):
                return found, f"entry {seq} hands the trail over from a key that is not the one in force"
            if not any(c["key_id"] == kid and c["hash"] == own
                       and lawful_chain.signature_ok(current, seq, own, c["at_us"], c["signature"])
                       for c in checkpoints.get(seq, [])):
                return found, f"the key change at entry {seq} is not signed by the key it replaces"
            found.append((seq, new))
    return found, None


manifest_bytes = (here / "MANIFEST.json").read_bytes()
sig = json.loads((here / "MANIFEST.sig.json").read_text(encoding="utf-8"))
digest = hashlib.sha256(manifest_bytes).hexdigest()
message = f"lawful-document-v1\\n{sig['label']}\\n{digest}".encode()
# The pack is signed by the key in force when it was made: the given (published) key, or the key the trail was
# handed over to since. A key retired before that signs no pack.
chain, problem = keys_in_force(given)
since, key = chain[-1]
if not signed(key, sig["signature"], message):
    print("FAILED: MANIFEST.json is not signed by this key (or was changed after signing)"
          + (f"; the trail's key changes cannot be followed: {problem}" if problem else ""))
    sys.exit(1)
how = f", handed over from the key given at entr{'ies' if len(chain) > 2 else 'y'} " + \
    ", ".join(str(s) for s, _ in chain[1:]) if len(chain) > 1 else ""
print(f"signature: OK ({sig['label']}, key {lawful_chain.key_id(key)}{how})")
manifest = json.loads(manifest_bytes)
bad = []
for name, want in manifest["files"].items():
    p = here / name
    if not p.is_file():
        bad.append(f"{name}: missing")
        continue
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest() != want["sha256"] or len(data) != want["bytes"]:
        bad.append(f"{name}: changed since the pack was signed")
# only the two manifest files at the top are not listed in the manifest; anything else unlisted is named
extra = sorted(str(p.relative_to(here)) for p in here.rglob("*") if p.is_file()
               and p.relative_to(here).as_posix() not in manifest["files"]
               and p.relative_to(here).as_posix() not in ("MANIFEST.json", "MANIFEST.sig.json"))
bad += [f"{name}: not listed in the manifest" for name in extra]
if bad:
    print("FAILED:\\n  " + "\\n  ".join(bad))
    sys.exit(1)
print(f"files: OK ({len(manifest['files'])} files match the signed manifest)")
trail = here / "trail"
# -I: nothing from the environment; -B: no bytecode left in the pack (it would then be a file not in the manifest)
cmd = [sys.executable, "-I", "-B", str(trail / "verify.py"), "--public-key", str(args.public_key.resolve())]
# The register's heads, not the pack's own copy: someone holding a key the trail was handed away from could cut the
# trail before the hand-over, sign a new end with that key and a pack with it; the register's newest head, signed by
# the key in force, names the difference.
try:
    heads = lawful_chain.read_witness(args.witness)  # (seq, hash, at_us, key_id, signature, source)
    end = json.loads((trail / "manifest.json").read_text(encoding="utf-8"))["head_seq"]
except (OSError, ValueError, KeyError, TypeError) as exc:
    print(f"FAILED: the register's heads in {args.witness} cannot be read: {exc}")
    sys.exit(1)
if not heads:
    print(f"FAILED: {args.witness} holds no published head: download heads.jsonl from the register's trail page")
    sys.exit(1)
newest = max(heads)
if not lawful_chain.signature_ok(key, newest[0], newest[1], newest[2], newest[4]):
    print(f"FAILED: the register's newest head (entry {newest[0]}) is not signed by the key that signed this "
          f"pack ({lawful_chain.key_id(key)}): the trail's key changed since the pack was made, or the pack was signed "
          "with a key the trail had been handed away from. Ask for a pack signed by the key in force.")
    sys.exit(1)
with tempfile.TemporaryDirectory() as tmp:  # the heads up to the pack's end must all be in its trail
    mine = Path(tmp) / "heads.jsonl"
    mine.write_text("".join(json.dumps(dict(zip(("seq", "hash", "at_us", "key_id", "signature"), h))) + "\\n"
                            for h in heads if h[0] <= end), encoding="utf-8")
    if mine.stat().st_size:
        cmd += ["--witness", str(mine)]
    done = subprocess.run(cmd)
sys.exit(done.returncode)
'''


def year_bounds(year: int) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    if not 2000 <= year <= now.year:
        raise InputError(f"year {year} is not a year Lawful can have records for", f"give a year from 2000 to {now.year}")
    return datetime(year, 1, 1, tzinfo=timezone.utc), datetime(year + 1, 1, 1, tzinfo=timezone.utc)


def _dump(value) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def _contents(session, *, settings, year: int, start: datetime, end: datetime) -> dict[str, bytes]:
    from lawful.governance import card as cards
    from lawful.governance import registry, serious
    from lawful.governance.monitor import figures
    from lawful.governance.policy import Thresholds
    from lawful.governance.service import figures_view, incident_view
    from lawful.privacy.models import Breach, SubjectRequest
    from lawful.privacy.requests import request_view
    from lawful.transparency import complaints, heads, register

    files: dict[str, bytes] = {}
    files["register/register-at-year-end.json"] = _dump(register.build(session, as_of=min(end, datetime.now(
        timezone.utc))))
    files["register/register-now.json"] = _dump(register.build(session))
    files["register/changes.json"] = _dump([{**c, "at": c["at"].isoformat()} for c in register.changes(session)
                                            if start <= c["at"] < end])
    entries = registry.get_all(session)
    refs = {e.id: e.ref for e in entries}
    approvals = []
    for e in entries:
        files[f"models/{e.name}-v{e.version}.md"] = cards.markdown(e).encode()
        approvals += [{"model": e.ref, "approver": a.approver, "mode": a.mode, "reason": a.reason,
                       "purposes": a.purposes, "areas": a.areas, "round": a.round, "at": a.created_at.isoformat(),
                       "expires": a.expires_at.isoformat()}
                      for a in registry.get_approvals(session, entry=e, current_round=False)]
    files["models/approvals.json"] = _dump(approvals)
    t = Thresholds.from_env()
    files["monitoring/figures-now.json"] = _dump([figures_view(figures(session, entry=e, thresholds=t))
                                                  for e in entries if e.state != "retired"])
    files["monitoring/lifecycle-moves.json"] = _dump([
        {"model": refs[m.entry_id], "from": m.from_state, "to": m.to_state, "actor": m.actor, "reason": m.reason,
         "automatic": m.automatic, "at": m.at.isoformat()}
        for m in registry.get_state_changes(session, since=start) if m.at < end])
    now = datetime.now(timezone.utc)
    files["serious-incidents.json"] = _dump([incident_view(i, refs[i.entry_id], now) for i in serious.get_all(session)
                                             if start <= i.recorded_at < end])
    files["complaints.json"] = _dump(complaints.in_year(session, start=start, end=end))
    files["subject-requests.json"] = _dump([request_view(r, now) for r in session.scalars(
        select(SubjectRequest).where(SubjectRequest.received_at >= start, SubjectRequest.received_at < end)
        .order_by(SubjectRequest.id))])
    files["breaches.json"] = _dump([
        {"id": b.id, "description": b.description, "window_from": b.window_from.isoformat(),
         "window_to": b.window_to.isoformat(), "aware_at": b.aware_at.isoformat(), "deadline": b.deadline.isoformat(),
         "affected": b.affected, "recorded_by": b.recorded_by, "recorded_at": b.recorded_at.isoformat(),
         "notified_at": b.notified_at.isoformat() if b.notified_at else None, "notified_to": b.notified_to}
        for b in session.scalars(select(Breach).where(Breach.recorded_at >= start, Breach.recorded_at < end)
                                 .order_by(Breach.id))])
    to_us = lambda t: int(t.timestamp() * 1_000_000)  # noqa: E731
    files["trail/heads.jsonl"] = heads.jsonl(heads.daily(session, settings=settings, since_us=to_us(start),
                                                         until_us=to_us(end))).encode()
    with tempfile.TemporaryDirectory(prefix="lawful-pack-") as tmp:
        bundle = audit.export(session, settings=settings, out_dir=Path(tmp) / "trail")
        for p in sorted(bundle.path.iterdir()):
            files[f"trail/{p.name}"] = p.read_bytes()
    v = audit.verify(session, settings=settings)
    files["trail/verification.json"] = _dump({
        "ok": v.ok, "entries": v.entries, "checkpoints": v.checkpoints, "head_seq": v.head_seq,
        "head_hash": v.head_hash, "checked_at": now.isoformat(),
        "problems": [{"seq": p.seq, "kind": p.kind, "text": p.text} for p in v.problems[:100]]})
    return files


def build_pack(store: Store, *, actor, year: int) -> bytes:
    """The signed zip for `year`. Decided by the policy (transparency.audit-pack) and itself on the trail, as a
    disclosure written before the pack is cut (so the pack's own trail export contains it)."""
    start, end = year_bounds(year)
    with store.transaction() as session:
        require(actor, ACTION, Resource("trail", f"audit-pack:{year}", "internal"), "governance")
        audit.append(session, actor=actor.name, action="disclosure", obj=f"audit-pack:{year}", purpose="governance",
                     details={"recipient": "external auditor", "year": year})
    with store.transaction(readonly=True) as session:
        files = _contents(session, settings=store.settings, year=year, start=start, end=end)
    settings = store.settings
    files["check_pack.py"] = CHECK_PY.encode()
    # the published key (the trail's trust anchor), from which check_pack.py follows any key change to the signer
    files["pack-public-key.pem"] = keys.public_pem(keys.trust_anchor(settings))
    files["README.txt"] = (
        f"Lawful annual audit pack, {year} (UTC), made {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by "
        f"{actor.name}.\n\nCheck it offline (Python 3.10+, `pip install cryptography`), with the public key the agency "
        "publishes on its register's trail page (/public/trail):\n\n"
        "    python check_pack.py --public-key trail-public-key.pem --witness heads.jsonl\n\n"
        "with heads.jsonl downloaded from the same page. It checks the manifest's signature (by the key in force "
        "when the register last published a head), every file's SHA-256, and then the trail export with "
        "trail/verify.py against every head the register published up to the pack's end. trail/heads.jsonl is the "
        "pack's own copy of that year's heads, for reference: the check uses the register's.\n").encode()
    manifest = {"format": LABEL, "year": year, "period": {"from": start.isoformat(), "to": end.isoformat()},
                "generated_at": datetime.now(timezone.utc).isoformat(), "generated_by": actor.name,
                "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                          for name, data in sorted(files.items())}}
    manifest_bytes = _dump(manifest)
    signature = trail_service.sign_document(settings, label=LABEL, data=manifest_bytes)
    buf = io.BytesIO()
    root = f"lawful-audit-pack-{year}"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(f"{root}/{name}", data)
        z.writestr(f"{root}/MANIFEST.json", manifest_bytes)
        z.writestr(f"{root}/MANIFEST.sig.json", _dump(signature))
    return buf.getvalue()


def fingerprint(store: Store) -> str:
    return chain.fingerprint(keys.signing_key(store.settings).public_key())
