"""Runnable examples: `python -m tapegrad.examples.demo`."""
