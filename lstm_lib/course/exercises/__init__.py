"""Self-check functions for the exercises, one module per chapter (built on lstm_lib.selfcheck)."""
