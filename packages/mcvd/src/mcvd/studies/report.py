"""Report sections: what each study contributes to the demo report."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Section"]


@dataclass(frozen=True)
class Section:
    """Output of one demo section.

    Attributes
    ----------
    markdown : str
        Body for ``report.md`` (starts with a ``###`` heading).
    summary_rows : list of str
        Markdown rows ``| case | quantity | mcvd | reference | note |`` for ``summary.md``.

    Examples
    --------
    >>> Section("### Title", ["| a | b | c | d | e |"]).summary_rows
    ['| a | b | c | d | e |']
    """

    markdown: str
    summary_rows: list[str] = field(default_factory=list)
