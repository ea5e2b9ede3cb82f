"""microfab: the operating system for a network of lights-out, container-based micro-factories."""

__version__ = "0.1.0"
