"""Identities and roles. The governance issue needs named people with roles; credentials, clearance and the
policy decision point come with the identity issue and extend what is here."""
