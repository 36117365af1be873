"""gatlang: a modeling language for distribution-grid studies."""
__version__ = "0.1.0"
