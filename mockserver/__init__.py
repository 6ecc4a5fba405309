"""A stateful mock of the UFDL and Testiny project APIs, driven by their OpenAPI specs.

`MockService` is the mock (served by the command line on aiohttp's low-level server);
`create_app` wraps it in an aiohttp application for tests and embedding.
"""

from .app import create_app
from .config import MockConfig
from .service import MockService

__all__ = ["MockConfig", "MockService", "create_app"]
__version__ = "0.1.0"
