"""Command-line tools: bin/leads and the understanding evaluation."""
