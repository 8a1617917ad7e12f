"""``twistd muc``: options, one-line refusals, and the named service tree."""

import pathlib

import pytest
from twisted.application import internet
from twisted.internet.testing import MemoryReactorClock

from mucsvc.component import MUCComponent
from mucsvc.config import parse_config
from mucsvc.tap import Options, service_from_config

ROOT = pathlib.Path(__file__).parent.parent
KICK_SETTING = {"http_muc_kick_authorization_header": "Bearer kick"}
KICK = 'http_muc_kick_authorization_header = "Bearer kick"\n'


def write(tmp_path, text):
    path = tmp_path / "muc.toml"
    path.write_text(text)
    return str(path)


def test_options_read_file_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("MUCSVC_CONFIG", raising=False)
    path = write(tmp_path, 'jid = "muc.example.org"\ncomponent_secret = "x"\ncomponent_port = 1\n' + KICK)
    options = Options()
    options.parseOptions(["--config", path, "--component-port", "5348",
                          "--http-endpoint", "tcp:0:interface=127.0.0.1", "--jid", "chat.example.org"])
    assert options.config.component_port == 5348
    assert options.config.jid == "chat.example.org"
    assert options.config.http_endpoint == "tcp:0:interface=127.0.0.1"


def test_config_file_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MUCSVC_CONFIG", write(tmp_path, 'jid = "env.example.org"\ncomponent_secret = "x"\n' + KICK))
    options = Options()
    options.parseOptions([])
    assert options.config.jid == "env.example.org"


@pytest.mark.parametrize("text, args, expected", [
    ('jidd = "x"\n', [], "twistd muc: config key 'jidd': unknown key (did you mean 'jid'?)\n"),
    ('jid = "muc.example.org"\n', [], "twistd muc: config key 'component_secret': missing"),
    ('jid = "muc.example.org"\ncomponent_secret = "x"\n' + KICK, ["--component-port", "many"],
     "twistd muc: config key 'component_port': --component-port 'many' is not a number\n"),
    ('jid = "muc.example.org"\ncomponent_secret = "x"\n', [],
     "twistd muc: config key 'http_muc_kick_authorization_header': missing; "
     "some authorization must be configured for POST /muc_kick\n"),
    ('jid = "muc.example.org"\ncomponent_secret = "x"\nhttp_muc_kick_authorization_header = ""\n', [],
     "twistd muc: config key 'http_muc_kick_authorization_header': empty; "
     "some authorization must be configured for POST /muc_kick\n"),
])
def test_mistakes_exit_with_one_line(tmp_path, monkeypatch, capsys, text, args, expected):
    monkeypatch.delenv("MUCSVC_COMPONENT_SECRET", raising=False)
    options = Options()
    with pytest.raises(SystemExit) as caught:
        options.parseOptions(["--config", write(tmp_path, text)] + args)
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(expected)
    assert err.count("\n") == 1


def test_service_tree_has_named_children(tmp_path):
    config = parse_config({"jid": "muc.example.org", "component_secret": "x", **KICK_SETTING,
                           "http_endpoint": "tcp:0:interface=127.0.0.1", "log_traffic": True,
                           "storage": str(tmp_path / "rooms.sqlite")},
                          environ={})
    root = service_from_config(config, reactor=MemoryReactorClock())
    component = root.getServiceNamed("component")
    assert isinstance(component, MUCComponent)
    assert component.logTraffic is True
    assert (component.host, component.port, component.jid) == ("127.0.0.1", 5347, "muc.example.org")
    assert isinstance(root.getServiceNamed("web"), internet.StreamServerEndpointService)
    assert root.getServiceNamed("muc").rooms.domain == "muc.example.org"
    assert root.getServiceNamed("storage").store.schema_version >= 1


def test_unusable_storage_path_is_one_line(tmp_path, capsys):
    from mucsvc.tap import makeService

    class Options(dict):
        config = parse_config({"jid": "muc.example.org", "component_secret": "x", **KICK_SETTING,
                               "storage": str(tmp_path / "missing-dir" / "rooms.sqlite")},
                              environ={})

    with pytest.raises(SystemExit):
        makeService(Options())
    err = capsys.readouterr().err
    assert err.startswith("twistd muc: config key 'storage': cannot open") and err.count("\n") == 1


def test_plugin_is_found_by_twisted():
    from twisted import plugin
    from twisted.application.service import IServiceMaker
    import twisted.plugins

    assert str(ROOT / "twisted" / "plugins") in [str(pathlib.Path(p)) for p in twisted.plugins.__path__]
    makers = {m.tapname: m for m in plugin.getPlugins(IServiceMaker)}
    assert makers["muc"].module == "mucsvc.tap"


def test_muc_tac_builds_the_same_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("MUCSVC_CONFIG", write(
        tmp_path, 'jid = "muc.example.org"\ncomponent_secret = "x"\nhttp_endpoint = "tcp:0"\n'
        f'storage = "{tmp_path}/rooms.sqlite"\n' + KICK))
    namespace = {"__file__": str(ROOT / "muc.tac")}
    exec(compile((ROOT / "muc.tac").read_text(), "muc.tac", "exec"), namespace)
    from twisted.application.service import IServiceCollection

    top = list(IServiceCollection(namespace["application"]))[0]
    assert {s.name for s in top} == {"component", "storage", "muc", "hats", "web"}


def _damage(path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"\xde\xad\xbe\xef" * 1024)


@pytest.mark.parametrize("offset", [0, 4096, 8192])
def test_a_damaged_store_is_one_line_that_says_what_to_do(tmp_path, capsys, offset):
    from mucsvc.rooms import Affiliation, HistoryEntry, RoomConfig
    from mucsvc.storage import SQLiteRoomStore
    from mucsvc.tap import makeService

    path = tmp_path / "rooms.sqlite"
    store = SQLiteRoomStore(path)
    for i in range(40):
        room = f"room{i}@muc.example.org"
        store.save_room(room, RoomConfig(persistent=True))
        store.set_affiliation(room, "owner@example.org", Affiliation.OWNER, {"x": "y" * 200})
        for j in range(5):
            store.append_history(room, HistoryEntry(1.0, "n", "<message/>" * 20, 1), 10)
    store._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    _damage(path, offset)

    class Options(dict):
        config = parse_config({"jid": "muc.example.org", "component_secret": "x", **KICK_SETTING,
                               "storage": str(path)}, environ={})

    with pytest.raises(SystemExit) as caught:
        makeService(Options())
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("twistd muc: config key 'storage': ") and str(path) in err
    assert "restore it from a backup" in err and ".recover" in err
