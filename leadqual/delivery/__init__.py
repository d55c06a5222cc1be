"""Qualified leads to people and systems: SDR routing, hand-off, and the CRM outbox."""
