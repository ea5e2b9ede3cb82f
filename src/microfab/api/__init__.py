"""REST API (FastAPI): thin routes over control and the engines; errors as RFC 9457 problem+json."""

from microfab.api.app import create_app

__all__ = ["create_app"]
