"""A stateful mock of the UFDL and Testiny project APIs, driven by their OpenAPI specs."""

from .app import create_app
from .config import MockConfig

__all__ = ["MockConfig", "create_app"]
__version__ = "0.1.0"
