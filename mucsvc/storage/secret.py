"""The service secret, kept apart from the rooms.

One random 32-byte value per service, from which the keys of occupant ids
(XEP-0421) and of IQ relay tags are derived (`mucsvc.muc.derive_key`): ids
stay the same across restarts as long as the file does.  Beside an
SQLite file it lives in a file of its own, readable by the service only,
so that a copy of the rooms does not give away the key.  With PostgreSQL
it is a row of the database (`mucsvc.storage.pg_secret`), shared by every
process using it, unless ``service_secret_file`` names a file.
"""

from __future__ import annotations

import os
import stat

SECRET_BYTES = 32


class SecretError(Exception):
    """The secret file cannot be used (wrong permissions, wrong size, unreadable)."""


class SecretFile:
    """The secret in the file at ``path``, made on first use (mode 0600)."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def service_secret(self, initial: bytes | None = None) -> bytes:
        """The secret; a missing file is created with ``initial`` (an older
        secret being moved here) or random bytes, durably, before it is used."""
        try:
            return self._read()
        except FileNotFoundError:
            pass
        value = initial if initial is not None else os.urandom(SECRET_BYTES)
        if len(value) != SECRET_BYTES:
            raise SecretError(f"a service secret is {SECRET_BYTES} bytes")
        # Written whole to a file of its own, then linked into place: a
        # process starting at the same moment sees either no secret or all
        # of it, never the empty file another one has just created.
        directory = os.path.dirname(os.path.abspath(self.path))
        partial = f"{self.path}.{os.getpid()}.{os.urandom(4).hex()}.new"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise SecretError(f"cannot create {self.path!r}: {e.strerror}") from None
        try:
            try:
                os.write(fd, value)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(partial, self.path)
            except FileExistsError:
                return self._read()  # made meanwhile by another process: that one counts
            except OSError as e:
                raise SecretError(f"cannot create {self.path!r}: {e.strerror}") from None
        finally:
            os.unlink(partial)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return value

    def _read(self) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise
        except OSError as e:
            raise SecretError(f"cannot read {self.path!r}: {e.strerror}") from None
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_IMODE(mode) & 0o077:
                raise SecretError(f"{self.path!r} is readable by others (chmod 600 it)")
            value = os.read(fd, SECRET_BYTES + 1)
        finally:
            os.close(fd)
        if len(value) != SECRET_BYTES:
            raise SecretError(f"{self.path!r} does not hold a {SECRET_BYTES}-byte secret")
        return value


class EphemeralSecret:
    """A secret for a service that keeps nothing: new at every start."""

    def __init__(self):
        self._value = os.urandom(SECRET_BYTES)

    def service_secret(self, initial: bytes | None = None) -> bytes:
        return self._value
