"""Transparency and redress: the public register generated from the registry, complaints and appeals, public
subject requests, published trail heads and the annual audit pack (issue #14)."""
