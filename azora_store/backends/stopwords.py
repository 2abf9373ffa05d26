"""PostgreSQL's English stop words (``english.stop``, from Snowball).

Postgres' ``english`` text-search configuration drops these words from both
documents and queries; SQLite's FTS5 tokenizer has no stop words, so the SQLite
backend removes them from the query to give the same answers.
"""

from __future__ import annotations

import re

ENGLISH_STOP_WORDS = frozenset("""
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
""".split())

_PIECE = re.compile(r'"|[^\W_]+')


def as_postgres_reads_it(text: str) -> str:
    """A web-search text rewritten so FTS5 reads it the way Postgres'
    ``websearch_to_tsquery('english', ...)`` does: stop words dropped (and, not,
    the, ...), and ``or`` in any case an OR operator outside quotes."""
    pieces, quoted, position = [], False, 0
    for match in _PIECE.finditer(text):
        pieces.append(text[position:match.start()])
        position = match.end()
        piece = match.group(0)
        if piece == '"':
            quoted = not quoted
            pieces.append(piece)
        elif piece.lower() == "or" and not quoted and _standalone(text, match):
            pieces.append("OR")
        elif piece.lower() not in ENGLISH_STOP_WORDS:
            pieces.append(piece)
    pieces.append(text[position:])
    return "".join(pieces)


def _standalone(text: str, match: re.Match[str]) -> bool:
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return before.isspace() and after.isspace()
