"""camaudit: who really made each camera on a network, and what that means for the organisation."""

__version__ = "0.1.0"

__all__ = ["__version__"]
