"""Visitor text to typed values: the parsers, what a message means for the question asked,
and the knowledge file's matcher."""
