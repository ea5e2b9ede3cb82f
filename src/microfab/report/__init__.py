"""Report adapters: render a `microfab.kpi.report.Report` as a self-contained HTML page."""

from microfab.report.html import render_html, write_html

__all__ = ["render_html", "write_html"]
