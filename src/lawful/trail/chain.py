"""The decision trail's hash chain and signed checkpoints: encoding, hashing, signing, verifying.

Pure and self-contained (standard library and `cryptography` only): `lawful audit export` copies this very file
into the bundle, so an external auditor verifies with the same code and the public key, without Lawful.

Canonical encoding of one entry (version 1), hashed with SHA-256 and written as lowercase hex:

    "lawful-trail-v1" US seq US at_us US actor US action US object US purpose US details US prev_hash

US is the ASCII unit separator (0x1F); seq and at_us (microseconds since 1970-01-01 UTC) are decimal integers;
details is the entry's details as stored: JSON with sorted keys and no spaces, which never contains a raw control
character; actor, action, object and purpose are refused at append time if they contain one, so the encoding is
unambiguous. The first entry's prev_hash is 64 zeros.

A checkpoint signs, with Ed25519, the UTF-8 text  "lawful-checkpoint-v1\\n{seq}\\n{hash}\\n{at_us}".

Keys. A key is named by its fingerprint, the SHA-256 (hex) of its 32 raw public-key bytes; its key_id is the
fingerprint's first 16 characters. The trail is pinned to the key that signs its first checkpoint; verification
starts from a public key obtained from the agency, which must be that key. The key changes only through a
`trail.key` entry whose details are {"event": "rotate", "from_key_id", "key_id", "fingerprint", "public_key" (raw,
hex)}, vouched for by a checkpoint at that very entry signed by the key it replaces; every later checkpoint must be
signed by the new key. A checkpoint signed by any other key is named with its entry.

Witness heads (`lawful admin witness`) are signed heads published outside the agency's data directory: JSON
objects with seq, hash, at_us, key_id, signature (and the key's fingerprint), one per line in a file or one per
file in a directory. They are checked exactly like checkpoints, so a trail cut short since is named.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
KEY_ACTION = "trail.key"  # an entry handing the trail over to a new signing key
PREFIX = "lawful-trail-v1"
US = "\x1f"


def entry_hash(seq: int, at_us: int, actor: str, action: str, obj: str, purpose: str, details: str,
               prev_hash: str) -> str:
    text = US.join((PREFIX, str(seq), str(at_us), actor, action, obj, purpose, details, prev_hash))
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_message(seq: int, head_hash: str, at_us: int) -> bytes:
    return f"lawful-checkpoint-v1\n{seq}\n{head_hash}\n{at_us}".encode()


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, head_hash: str, at_us: int) -> str:
    return key.sign(checkpoint_message(seq, head_hash, at_us)).hex()


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(public_key)).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    return fingerprint(public_key)[:16]


def signature_ok(public_key: Ed25519PublicKey, seq: int, head_hash: str, at_us: int, signature: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature), checkpoint_message(seq, head_hash, at_us))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def read_witness(path) -> list[tuple]:
    """Published heads from a witness file (JSON lines) or directory (one JSON file per head), as checkpoints
    (seq, hash, at_us, key_id, signature, "witness head"). Raises ValueError naming the file and line."""
    path = Path(path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    heads = []
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the witness {f}: {exc}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                h = json.loads(line)
                heads.append((int(h["seq"]), str(h["hash"]), int(h["at_us"]), str(h["key_id"]), str(h["signature"]),
                              "witness head"))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{f} line {n} is not a published head: {exc}") from None
    return heads


@dataclass
class Problem:
    seq: int  # the entry named: the first one that was altered, removed or inserted
    kind: str  # altered | removed | inserted | relinked | truncated | unsigned | bad-signature | wrong-key |
    # bad-rotation
    text: str


@dataclass
class Verification:
    entries: int = 0
    checkpoints: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    signed_seq: int = 0
    keys: list[tuple[int, str]] = field(default_factory=list)  # (in force after entry, key_id), oldest first
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def _diagnose(problems: list[Problem], seq: int, expected_seq: int, hash_ok: bool, link_ok: bool) -> None:
    if seq > expected_seq:
        problems.append(Problem(expected_seq, "removed", f"entries {expected_seq} to {seq - 1} are missing"
                                if seq - 1 > expected_seq else f"entry {expected_seq} is missing"))
    elif seq < expected_seq:
        problems.append(Problem(seq, "inserted", f"entry {seq} appears out of order (after {expected_seq - 1})"))
    if not hash_ok:
        problems.append(Problem(seq, "altered", f"entry {seq} was altered: its content no longer gives its hash"))
    elif not link_ok and seq == expected_seq:
        # Content and hash agree but the link does not: this entry was written in place of the original
        # (inserted or rewritten with a recomputed hash), or the one before it was.
        problems.append(Problem(seq, "relinked", f"entry {seq} does not follow entry {seq - 1}: it was "
                                                 f"inserted or rewritten, or entry {seq - 1} was"))


def verify(entries: Iterable[tuple], checkpoints: Iterable[tuple], public_key: Ed25519PublicKey,
           max_problems: int = 20) -> Verification:
    """Recompute the chain and check the signature of every checkpoint.

    entries: (seq, at_us, actor, action, object, purpose, details, prev_hash, hash) in seq order.
    checkpoints: (seq, hash, at_us, key_id, signature[, source]) in any order; source names where a signed head
    came from in messages ("checkpoint", "head-file checkpoint", "witness head").
    public_key: the key the trail was started with (the trust anchor), obtained apart from the trail.
    """
    v = Verification()
    problems = v.problems
    cps = sorted((tuple(c) if len(c) > 5 else (*c, "checkpoint")) for c in checkpoints)
    wanted = {c[0] for c in cps}  # only these entries' hashes are needed after the pass
    hashes: dict[int, str] = {}
    rotations: list[tuple[int, str]] = []
    expected_seq, prev, n = 1, GENESIS, 0
    sha, join = hashlib.sha256, US.join
    for seq, at_us, actor, action, obj, purpose, details, prev_hash, own in entries:
        n += 1
        computed = sha(join((PREFIX, str(seq), str(at_us), actor, action, obj, purpose, details,
                             prev_hash)).encode()).hexdigest()
        if (computed != own or prev_hash != prev or seq != expected_seq) and len(problems) < max_problems:
            _diagnose(problems, seq, expected_seq, computed == own, prev_hash == prev)
        if seq in wanted:
            hashes[seq] = own
        if action == KEY_ACTION:
            rotations.append((seq, details))
        prev, expected_seq = own, seq + 1
    v.entries = n
    v.head_seq, v.head_hash = expected_seq - 1, prev

    # The key in force: the given key from the start, then each rotation vouched for by the key it replaces.
    schedule = [(0, key_id(public_key), public_key)]
    at_seq: dict[int, list[tuple]] = {}
    for c in cps:
        at_seq.setdefault(c[0], []).append(c)
    for r, details in rotations:
        _, kid, key = schedule[-1]
        try:
            d = json.loads(details)
            new = Ed25519PublicKey.from_public_bytes(bytes.fromhex(d["public_key"]))
            claimed_from, claimed_id = d["from_key_id"], d["key_id"]
        except (ValueError, KeyError, TypeError):
            problems.append(Problem(r, "bad-rotation", f"entry {r} is a key change that cannot be read"))
            continue
        if claimed_from != kid or claimed_id != key_id(new):
            problems.append(Problem(r, "bad-rotation", f"entry {r} hands the trail from key {claimed_from} to "
                                    f"{claimed_id}, but the trail's key there is {kid}"))
            continue
        if not any(c[3] == kid and c[1] == hashes.get(r) and signature_ok(key, c[0], c[1], c[2], c[4])
                   for c in at_seq.get(r, ())):
            problems.append(Problem(r, "bad-rotation", f"the key change at entry {r} is not signed by the key it "
                                    f"replaces ({kid}): no valid checkpoint at entry {r}"))
            continue
        schedule.append((r, claimed_id, new))
    v.keys = [(start, kid) for start, kid, _ in schedule]

    # Every signed head is checked: its signer must be the key in force at its entry, its signature must hold,
    # and it must agree with the chain (a head beyond the end means entries were cut off).
    cp_problems, k = 0, 0
    for seq, head, at_us, signer, signature, source in cps:
        v.checkpoints += 1
        while k + 1 < len(schedule) and schedule[k + 1][0] < seq:
            k += 1
        start, kid, key = schedule[k]
        found = None
        if signer != kid:
            since = f"since the key change at entry {start}" if start else "the key the trail was started with"
            found = Problem(seq, "wrong-key", f"the {source} at entry {seq} is signed by key {signer}, but the trail's "
                                              f"key there is {kid} ({since}); no key change hands over to {signer}")
        elif not signature_ok(key, seq, head, at_us, signature):
            found = Problem(seq, "bad-signature", f"the {source} at entry {seq} has an invalid signature")
        elif seq > v.head_seq:
            found = Problem(v.head_seq + 1, "truncated", f"a signed {source} covers entry {seq} but the trail ends at "
                            f"entry {v.head_seq}: entries {v.head_seq + 1} to {seq} were cut off")
        elif hashes.get(seq) != head:
            found = Problem(seq, "altered", f"entry {seq} differs from what {source} {seq} signed")
        if not found or found.kind in ("truncated", "altered"):  # genuinely signed: it covers up to its entry
            v.signed_seq = max(v.signed_seq, min(seq, v.head_seq))
        if found and cp_problems < max_problems:
            problems.append(found)
            cp_problems += 1
    if v.head_seq > v.signed_seq:
        problems.append(Problem(v.signed_seq + 1, "unsigned", f"entries {v.signed_seq + 1} to {v.head_seq} are not "
                                "covered by any signed checkpoint: they were inserted without the signing key"))
    return v
