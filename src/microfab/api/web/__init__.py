"""Server-rendered pages (Jinja2, a little JavaScript, every asset shipped in the package)."""

from microfab.api.web.pages import install

__all__ = ["install"]
