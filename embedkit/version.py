"""embedkit's version: recorded in saved models and in the default model's cache key."""

__version__ = "0.1.0"
