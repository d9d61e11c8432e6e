"""Case-file assistance: statements imported and pseudonymised, structured, checked for inconsistencies, linked to
similar cases and redacted for disclosure, every suggestion an output of a registered model (issue #17)."""
