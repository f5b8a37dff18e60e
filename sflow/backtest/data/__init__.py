"""Market-data tools: qlib's binary layout, the demo market, CSV import and data checks.

Only ``checks`` is free of numpy; the writers import it lazily through their own modules.
"""
