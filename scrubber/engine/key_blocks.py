"""Private keys logged one line per record: which records sit inside an open key block.

A key printed line by line (a logger call per line, a CI step echoing a file, a stack of
`log.debug(line)`) puts its BEGIN line, each base64 body line and its END line in records of
their own. One body line alone is a random-looking string that no stateless rule can tell from an
id, and the last one may be a few characters long. Whoever reads a source in order (a file, a
Kafka partition) keeps a `KeyBlocks` for it and passes its answer to `Scrubber.scrub_batch`,
which then replaces every base64 run inside the block. The state is that of one source: records
of other sources interleaved into it (two threads logging at once) are inside the block too, and
lose their base64 runs - over-redaction, never a leak.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_MARKER = b"PRIVATE KEY"
# Body material: a run of the base64 alphabet long enough not to be a word of a log prefix, or a
# short tail with its padding (`yPB==`). A block's last line may be short and unpadded
# (`UK1It+hPO54X`): the run that ends the record (before closing quotes) is body too.
BODY_RUN = re.compile(
    r"[A-Za-z0-9+/]{16,}={0,2}|(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{1,15}={1,2}(?![A-Za-z0-9+/=])"
)
# The wrap may leave one character and its padding (`k=`), or the padding alone (`==`).
_LAST_RUN = re.compile(
    r"(?:(?<![A-Za-z0-9+/])[A-Za-z0-9+/]+={0,2}|(?<![A-Za-z0-9+/=])={1,2})[\s'\",;)\\]*\Z"
)
# A block left open (END lost, truncated output) closes after this many records: a 16384-bit RSA
# key is ~200 body lines, a PGP key block with its subkeys a few hundred.
MAX_BLOCK_RECORDS = 1024

Window = tuple[int, int]  # [start, end) in the record's text; (0, -1): to its end


class KeyBlocks:
    """The open/closed state of one source, advanced record by record, in order."""

    def __init__(self) -> None:
        self._open = False
        self._records = 0

    @property
    def open(self) -> bool:
        return self._open

    def reset(self) -> None:
        """The source changed hands (a partition revoked): its next record starts afresh."""
        self._open = False
        self._records = 0

    def windows(self, records: Sequence[bytes | str]) -> list[Window | None]:
        """Per record, the part of it inside a private-key block, or None."""
        return [self._advance(record) for record in records]

    def _advance(self, record: bytes | str) -> Window | None:
        marked = (_MARKER in record) if isinstance(record, bytes) else ("PRIVATE KEY" in record)
        if not marked:
            if not self._open:
                return None
            self._records += 1
            if self._records > MAX_BLOCK_RECORDS:
                self.reset()
                return None
            return (0, -1)
        text = record.decode("utf-8", "replace") if isinstance(record, bytes) else record
        start = 0 if self._open else None
        opened = False
        window: Window | None = None
        for marker in sorted(
            [(m.start(), m.end(), True) for m in _BEGIN.finditer(text)]
            + [(m.start(), m.end(), False) for m in _END.finditer(text)]
        ):
            position, after, begins = marker
            if begins and start is None:
                start, opened = after, True
            elif not begins and start is not None:
                window = (start, position) if window is None else (window[0], position)
                start = None
        if start is not None:  # still open at the end of this record
            window = (start if window is None else window[0], -1)
        self._open = start is not None
        if opened:
            self._records = 0
        return window


def body_spans(text: str, window: Window) -> list[tuple[int, int]]:
    """The base64 runs of `text` within `window`."""
    start, end = window
    stop = len(text) if end < 0 else end
    spans = [m.span() for m in BODY_RUN.finditer(text, start, stop)]
    if end < 0 and (last := _LAST_RUN.search(text, start)) is not None:
        run = last.group().rstrip(" \t\r\n'\",;)\\")
        spans.append((last.start(), last.start() + len(run)))
    return spans


class PositionedKeyBlocks:
    """`KeyBlocks` for many sources read at positions that may go back (Kafka partitions: a
    batch re-read after an aborted transaction or a retry, a partition assigned again).

    The state is remembered at the start of each batch of each source, so a batch read again
    gets the state it had the first time: its body lines stay inside the block even if its END
    was already seen. Positions may skip (transaction markers, compaction): forward is forward.
    A source first read in the middle of a block (after a restart) starts closed: its body
    lines are left to the stateless body-line recognizer.
    """

    _REMEMBERED = 64  # batch starts per source

    def __init__(self) -> None:
        self._blocks: dict[object, KeyBlocks] = {}
        self._last: dict[object, int] = {}
        self._at: dict[object, dict[int, tuple[bool, int]]] = {}

    def windows(
        self, records: Sequence[bytes | str], sources: Sequence[tuple[object, int]]
    ) -> list[Window | None]:
        """Per record (with its (source, position)), the part inside a private-key block."""
        out: list[Window | None] = []
        started: set[object] = set()
        for record, (source, position) in zip(records, sources, strict=True):
            blocks = self._blocks.setdefault(source, KeyBlocks())
            if source not in started:
                started.add(source)
                self._start(source, blocks, position)
            out.append(blocks._advance(record))  # one module's two classes
            self._last[source] = position
        return out

    def _start(self, source: object, blocks: KeyBlocks, position: int) -> None:
        remembered = self._at.setdefault(source, {})
        last = self._last.get(source)
        if last is not None and position <= last:  # read again: the state it had then
            earlier = [p for p in remembered if p <= position]
            state = remembered[max(earlier)] if earlier else (False, 0)
            blocks._open, blocks._records = state
        remembered[position] = (blocks.open, blocks._records)
        if len(remembered) > self._REMEMBERED:
            del remembered[min(remembered)]
