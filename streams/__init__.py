"""Watchfloor: streaming event detection for open-source intelligence on Kafka and Faust."""

__all__ = ["__version__"]

__version__ = "0.1.0"
