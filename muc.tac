"""Run the service with ``twistd -ny muc.tac``.

Builds the same service as ``twistd muc``, from the TOML file named by the
``MUCSVC_CONFIG`` environment variable (default ``./muc.toml``).
"""

import os
import sys

from twisted.application import service

from mucsvc.config import ConfigError, load_config
from mucsvc.tap import CONFIG_ENVIRONMENT_VARIABLE, service_from_config

try:
    _config = load_config(os.environ.get(CONFIG_ENVIRONMENT_VARIABLE, "muc.toml"))
    _service = service_from_config(_config)
except ConfigError as e:
    sys.stderr.write(f"muc.tac: {e}\n")
    raise SystemExit(1)

application = service.Application("mucsvc")
_service.setServiceParent(application)
