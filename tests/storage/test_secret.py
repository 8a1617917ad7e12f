"""The service secret in a file of its own, and the store chosen by ``storage``."""

import os
import stat

import pytest

from mucsvc.storage import MemoryRoomStore, SQLiteRoomStore, backends
from mucsvc.storage.secret import EphemeralSecret, SecretError, SecretFile


def test_made_once_then_the_same_for_every_reader(tmp_path):
    path = tmp_path / "svc.secret"
    secret = SecretFile(path).service_secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    assert SecretFile(path).service_secret() == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_secrets_are_random(tmp_path):
    assert SecretFile(tmp_path / "a").service_secret() != SecretFile(tmp_path / "b").service_secret()


def test_a_process_making_the_secret_at_the_same_moment_is_never_seen_half_done(
        tmp_path, monkeypatch):
    """Another process creates the secret while this one is writing its own:
    this one takes the other's, finds it whole, and leaves nothing behind."""
    path = tmp_path / "svc.secret"
    theirs = bytes(range(32))
    real_link = os.link
    seen = []

    def link(source, target):
        seen.append(os.listdir(tmp_path))  # ours is written, not yet in place
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, theirs)
        os.close(fd)
        return real_link(source, target)

    monkeypatch.setattr(os, "link", link)
    assert SecretFile(path).service_secret() == theirs
    assert "svc.secret" not in seen[0]
    assert os.listdir(tmp_path) == ["svc.secret"]


def test_processes_starting_together_share_one_secret(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(8) as pool:
        secrets = pool.map(_secret_of, [str(tmp_path / "svc.secret")] * 64)
    assert len(set(secrets)) == 1 and len(secrets[0]) == 32
    assert os.listdir(tmp_path) == ["svc.secret"]


def _secret_of(path):
    return SecretFile(path).service_secret()


def test_a_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "svc.secret"
    SecretFile(path).service_secret()
    os.chmod(path, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        SecretFile(path).service_secret()


def test_a_file_of_the_wrong_size_is_refused(tmp_path):
    path = tmp_path / "svc.secret"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(SecretError, match="32-byte"):
        SecretFile(path).service_secret()


def test_an_older_secret_is_moved_into_the_file(tmp_path):
    store = SQLiteRoomStore(tmp_path / "rooms.sqlite")
    old = os.urandom(32)
    store._connection().execute("INSERT INTO service (key, value) VALUES (?, ?)",
                                ("occupant_id_secret", old))
    source = backends.secret_source(str(tmp_path / "rooms.sqlite"))
    assert backends.load_secret(store, source) == old
    assert (tmp_path / "rooms.sqlite.secret").read_bytes() == old
    store.close()


def test_without_an_older_secret_a_new_one_is_made(tmp_path):
    store = SQLiteRoomStore(tmp_path / "rooms.sqlite")
    assert store.legacy_secret() is None
    source = backends.secret_source(str(tmp_path / "rooms.sqlite"))
    secret = backends.load_secret(store, source)
    assert backends.load_secret(store, source) == secret
    store.close()


def test_the_storage_setting_chooses_the_backend(tmp_path):
    memory = backends.open_store("memory:")
    assert isinstance(memory, MemoryRoomStore)
    assert isinstance(backends.secret_source("memory:"), EphemeralSecret)
    sqlite = backends.open_store(str(tmp_path / "x.sqlite"))
    assert isinstance(sqlite, SQLiteRoomStore)
    assert backends.secret_source(str(tmp_path / "x.sqlite"), str(tmp_path / "elsewhere")).path == \
        str(tmp_path / "elsewhere")
    sqlite.close()


def test_a_store_that_keeps_nothing_keeps_no_secret_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for setting in ("memory:", ":memory:"):
        assert isinstance(backends.secret_source(setting), EphemeralSecret)
    assert list(tmp_path.iterdir()) == []
