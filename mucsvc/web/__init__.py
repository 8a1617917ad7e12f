"""The HTTP side of the service: a Klein application on the ``http_endpoint``."""
