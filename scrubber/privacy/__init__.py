"""Privacy measures over scrubbed output: k-anonymity of quasi-identifiers in tumbling windows
(`kanon_window`) and a differentially private view of the per-entity counters (`dp_view`).

Counts only: nothing here ever holds a value in a metric label or a log line. Pure logic, used by
the wings that observe a stream (`pipeline`) or a file (`kanon`).
"""
