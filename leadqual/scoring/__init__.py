"""Typed answers and behaviour to points, grades and stages."""
