"""Every diagnostic code sflow emits, with its layer and a one-line title (SARIF rules, docs).

Codes are stable: a code is never reused for another meaning.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # SF1xx syntax
    "SF100": "File is not valid UTF-8",
    "SF101": "Unexpected token",
    "SF102": "Unexpected character",
    "SF103": "Unexpected end of file or unclosed block",
    "SF104": "Chained comparison",
    "SF105": "Unterminated string",
    "SF106": "Unclosed parenthesis",
    "SF107": "Expression nested too deeply",
    "SF108": "File too large",
    "SF109": "Too many syntax errors",
    # SF2xx graph
    "SF201": "Unknown template",
    "SF202": "Undefined name",
    "SF203": "Duplicate node name",
    "SF204": "Cycle in the logic flow",
    "SF205": "Unused node",
    "SF206": "Invalid node name",
    "SF207": "Duplicate block name",
    "SF208": "Unknown $field",
    "SF209": "Definition that only renames a node",
    # SF3xx types
    "SF301": "Port type mismatch",
    "SF302": "Wrong number of inputs",
    "SF303": "Unknown output port",
    "SF304": "Multi-output node used without a port",
    "SF305": "Literal where a series is needed, or a non-literal parameter",
    # SF4xx parameters
    "SF401": "Parameter has the wrong type",
    "SF402": "Parameter out of range",
    "SF403": "Parameter value not allowed",
    "SF404": "Missing required parameter",
    "SF405": "Unknown parameter",
    "SF406": "Parameter violates the template's schema",
    "SF407": "Parameter given twice",
    # SF5xx semantics
    "SF501": "Strategy has no signal",
    "SF502": "Strategy has no position node",
    "SF503": "Test refers to an unknown strategy",
    "SF504": "Invalid test period",
    "SF505": "Invalid date",
    "SF506": "Lookback longer than the test period",
    "SF507": "Unknown setting",
    "SF508": "Duplicate setting",
    "SF509": "Invalid setting value",
    "SF510": "More than one position node",
    # SF6xx security
    "SF601": "qlib expression cannot be parsed",
    "SF602": "Forbidden construct in a qlib expression",
    "SF603": "Unknown qlib operator",
    "SF604": "Unknown field in a qlib expression",
    "SF605": "Lookahead: a negative lag reads the future",
    "SF606": "qlib expression too long or too deep",
    "SF607": "Generated expression failed the strict tokenizer",
}
