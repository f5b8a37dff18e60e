"""sflow: a language, language server and qlib code generator for trading-strategy logic flows."""

__version__ = "0.1.0"
