"""Language features, one module per area; each computes plain LSP results from an `Analysis`."""
