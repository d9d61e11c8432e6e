"""The decision trail: chain (pure encoding and verifier), keys, the one writer (audit), verify, export."""
