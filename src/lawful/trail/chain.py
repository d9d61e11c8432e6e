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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
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


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


@dataclass
class Problem:
    seq: int  # the entry named: the first one that was altered, removed or inserted
    kind: str  # altered | removed | inserted | relinked | truncated | unsigned | bad-signature
    text: str


@dataclass
class Verification:
    entries: int = 0
    checkpoints: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    signed_seq: int = 0
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
    """Recompute the chain and check every checkpoint.

    entries: (seq, at_us, actor, action, object, purpose, details, prev_hash, hash) in seq order.
    checkpoints: (seq, hash, at_us, key_id, signature) in any order.
    """
    v = Verification()
    problems = v.problems
    checkpoints = list(checkpoints)
    wanted = {c[0] for c in checkpoints}  # only these entries' hashes are needed after the pass
    hashes: dict[int, str] = {}
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
        prev, expected_seq = own, seq + 1
    v.entries = n
    v.head_seq, v.head_hash = expected_seq - 1, prev

    # The newest valid checkpoint signs the head, and every hash commits to the one before it, so it vouches for
    # the whole chain up to it. Older checkpoints that agree with the chain need no signature check of their own
    # (that keeps verification at hashing speed); any that disagree, or lie beyond the end, are checked and named.
    kid = key_id(public_key)
    for seq, head, at_us, signer, signature in sorted(checkpoints, reverse=True):
        v.checkpoints += 1
        if v.signed_seq and seq <= v.signed_seq and hashes.get(seq) == head:
            continue
        if signer != kid:
            problems.append(Problem(seq, "bad-signature", f"checkpoint at entry {seq} was signed by key {signer}, "
                                                          f"not by the given key {kid}"))
            continue
        try:
            public_key.verify(bytes.fromhex(signature), checkpoint_message(seq, head, at_us))
        except (InvalidSignature, ValueError):
            problems.append(Problem(seq, "bad-signature", f"checkpoint at entry {seq} has an invalid signature"))
            continue
        if seq > v.head_seq:
            problems.append(Problem(v.head_seq + 1, "truncated", f"a signed checkpoint covers entry {seq} but the "
                                    f"trail ends at entry {v.head_seq}: entries {v.head_seq + 1} to {seq} were cut off"))
        elif hashes.get(seq) != head:
            problems.append(Problem(seq, "altered", f"entry {seq} differs from what checkpoint {seq} signed"))
        v.signed_seq = max(v.signed_seq, min(seq, v.head_seq))
    if v.head_seq > v.signed_seq:
        problems.append(Problem(v.signed_seq + 1, "unsigned", f"entries {v.signed_seq + 1} to {v.head_seq} are not "
                                "covered by any signed checkpoint: they were inserted without the signing key"))
    return v
