"""Benchmarks, each side by side with its peer baseline in the same run (`make bench`)."""
