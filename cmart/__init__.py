"""campaign-mart: the campaign management data mart."""

__version__ = "0.1.0"
