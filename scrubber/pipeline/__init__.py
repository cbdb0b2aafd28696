"""`scrubber run`: the Kafka pipeline (loop, records, offsets, metrics, runner)."""
