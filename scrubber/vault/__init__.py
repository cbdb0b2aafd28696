"""Tokens at rest: tokens, store, audit, access, cli."""
