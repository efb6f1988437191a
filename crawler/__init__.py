"""newsmon: a scheduled news-monitoring crawler for Chinese regional policy news."""

__version__ = "0.1.0"
