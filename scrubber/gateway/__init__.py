"""`scrubber gateway`: an OpenAI/Anthropic-compatible proxy (scrub prompts, restore answers)."""
