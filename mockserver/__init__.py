"""A stateful mock of the UFDL and Testiny project APIs, driven by their OpenAPI specs.

`MockService` is the mock (served by the command line on aiohttp's low-level server);
`create_app` wraps it in an aiohttp application for tests and embedding.
"""

__version__ = "0.2.0"  # before the imports: modules below read it

from .app import create_app  # noqa: E402
from .config import MockConfig  # noqa: E402
from .service import MockService  # noqa: E402

__all__ = ["MockConfig", "MockService", "__version__", "create_app"]
