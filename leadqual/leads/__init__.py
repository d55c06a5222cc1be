"""The lead record, one per person: the store, identity, transcripts, re-scoring, privacy and live take-over."""
