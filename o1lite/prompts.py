"""Every prompt template in one place, each beside its parser.

Parsers never raise on model output: a malformed generation parses to
`None` (or an empty result) and is counted by the caller.

Sections: the test-case generator's template (chapter 02); the vanilla and
pseudocode policy formats (chapter 03).
"""

from __future__ import annotations

# ---------------------------------------------------------------- test-case generator (chapter 02)


# ---------------------------------------------------------------- policy formats (chapter 03)
