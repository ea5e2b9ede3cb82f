"""Command-line interface (Typer + Rich): parses, calls control, formats."""
