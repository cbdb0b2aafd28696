"""Scrubber: streaming PII scrubbing. The engine is `scrubber.engine.Scrubber`."""

from scrubber.offline import make_tldextract_offline

make_tldextract_offline()

__version__ = "0.1.0"
