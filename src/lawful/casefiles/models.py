"""Tables of the case-file domain (cases, statements, suggestions and decisions)."""
