"""Logic flows: the graph a strategy's text describes, its JSON form, templates and validation."""
