"""The package version (kept equal to Cargo.toml's by a test)."""

__version__ = '0.1.0'
