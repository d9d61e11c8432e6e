"""Tables of the transparency domain (complaints, appeals, published heads)."""
