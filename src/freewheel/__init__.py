"""freewheel: resolve, lock and install Python packages from many indexes."""

__version__ = "0.1.0"
