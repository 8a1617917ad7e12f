"""Import mucsvc before any test module imports wokkel (see mucsvc.wokkel_compat)."""

import mucsvc  # noqa: F401
