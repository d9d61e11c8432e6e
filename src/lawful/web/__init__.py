"""The one door: `lawful serve` runs this FastAPI application, the only process that opens the store and reads
the keys. Routers are thin: parse, call a service with the authenticated actor, return its result."""
