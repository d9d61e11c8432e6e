"""The keys a load has seen (validate.SeenKeys): for every key of every chunk, the row where it first came and how
often it came before, exactly as a plain dictionary over the whole file would say, whether the keys stay in memory,
are merged into larger runs, or are spilled to files; first-hash collisions included."""

from __future__ import annotations

import os
import random

import numpy as np
import pandas as pd
import pytest

from lawful.incidents.validate import SeenKeys


def _reference(chunks):
    seen: dict = {}
    out = []
    for keys, rows in chunks:
        first, before = [], []
        for k, r in zip(keys, rows):
            if k in seen:
                seen[k][1] += 1
            else:
                seen[k] = [int(r), 1]
            first.append(seen[k][0])
            before.append(seen[k][1] - 1)
        out.append((np.array(first), np.array(before)))
    return out


def _chunks(seed: int, n_chunks: int = 60, universe: int = 4000):
    rng = random.Random(seed)
    row, chunks = 2, []
    for _ in range(n_chunks):
        n = rng.randint(1, 300)
        chunks.append(([f"K{rng.randint(0, universe)}" for _ in range(n)], np.arange(row, row + n)))
        row += n
    return chunks


@pytest.mark.parametrize("spill, max_run", [(None, None), (50, 400), (7, 30)],
                         ids=["in memory", "spilled, merged", "tiny runs, many files"])
def test_every_key_gets_its_first_row_and_count_as_a_dictionary_would(spill, max_run):
    chunks = _chunks(seed=1)
    seen = SeenKeys(spill, max_run)
    for (keys, rows), (first, before) in zip(chunks, _reference(chunks)):
        got_first, got_before = seen.observe(pd.Series(keys), rows)
        assert (got_first == first).all() and (got_before == before).all()
    distinct = len({k for keys, _ in chunks for k in keys})
    assert len(seen) == distinct
    if spill:
        assert seen.spilled > distinct // 2  # most keys live in files
        folder = seen._folder
        assert folder and os.path.isdir(folder) and oct(os.stat(folder).st_mode & 0o777) == "0o700"
        assert len(os.listdir(folder)) == 4 * sum(1 for r in seen.runs if isinstance(r["hi"], np.memmap))
        del seen
        assert not os.path.exists(folder)  # the files go with the state
    else:
        assert seen.spilled == 0 and len(seen.runs) <= 12  # merged as they grow: about log2 of the chunks


def test_digests_that_share_their_first_eight_bytes_are_told_apart_across_runs():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, size=(40, 10), dtype=np.uint8)
    twins = base.copy()
    twins[:, 8] ^= 0xFF  # same first 8 bytes, another last 2: a first-hash collision for each
    pool = np.concatenate([base, twins])
    chunks, row = [], 2
    for _ in range(30):
        pick = rng.integers(0, len(pool), size=int(rng.integers(1, 25)))
        chunks.append((pool[pick], np.arange(row, row + len(pick))))
        row += len(pick)
    expected = _reference([([d.tobytes() for d in digests], rows) for digests, rows in chunks])
    seen = SeenKeys(spill_keys=8, max_run_keys=32)
    for (digests, rows), (first, before) in zip(chunks, expected):
        got_first, got_before = seen.observe_digests(digests, rows)
        assert (got_first == first).all() and (got_before == before).all()
    assert seen.aside  # the collisions really were exercised


def test_no_room_for_the_spilled_keys_is_a_clear_error_not_a_crash(monkeypatch):
    """The files' blocks are taken when each file is made, so a full disk is an error that names the folder and
    the fix, never a SIGBUS when the kernel later fails to write a mapped page."""
    import errno

    from lawful.errors import StoreError

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    seen = SeenKeys(spill_keys=8, max_run_keys=64)
    chunks = _chunks(seed=3, n_chunks=5)
    with pytest.raises(StoreError, match="TMPDIR") as caught:
        for keys, rows in chunks:
            seen.observe(pd.Series(keys), rows)
    assert seen._folder in str(caught.value) and "No space left" in str(caught.value)
