"""Data protection: pseudonymisation of personal identifiers and governed re-identification. Retention, subject
requests and the breach register come next."""
