"""`scrubber serve`: the HTTP API (app, models, serve)."""
