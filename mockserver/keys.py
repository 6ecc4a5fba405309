"""Typed keys of what the aiohttp application holds (state lives here, never in module globals)."""

from __future__ import annotations

from aiohttp import web

from .config import MockConfig

SERVICE = web.AppKey("service", object)  # service.MockService: everything below, and the request handler
RUNTIMES = web.AppKey("runtimes", list)  # ApiRuntime of each product API, the longest base path first
CONFIG = web.AppKey("config", MockConfig)
PLANE = web.AppKey("plane", object)  # control.ControlPlane: journal, fault rules, state file
