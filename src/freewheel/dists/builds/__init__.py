"""Building projects and source distributions through their PEP 517 backend."""
