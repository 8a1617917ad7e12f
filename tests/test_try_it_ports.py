"""try-it's choice of ports: the last run's, else the standard ones, else free ones."""

import importlib.util
import pathlib
import socket

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_try_it():
    spec = importlib.util.spec_from_file_location("try_it", ROOT / "scripts" / "try_it.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


try_it = load_try_it()


def spares(*ports):
    it = iter(ports)
    return lambda: next(it)


def test_standard_ports_when_free():
    ports, notes = try_it.choose_ports(None, is_free=lambda port: True, spare=spares())
    assert ports == {"c2s": 5222, "component": 5347, "http": 5280} and notes == []


def test_a_busy_standard_port_is_replaced_and_said():
    ports, notes = try_it.choose_ports(None, is_free=lambda port: port != 5222,
                                       spare=spares(40001))
    assert ports == {"c2s": 40001, "component": 5347, "http": 5280}
    assert notes == ["c2s port 5222 (the standard) is in use by another program; using 40001 instead"]


def test_the_last_runs_ports_win_over_the_standard_ones():
    saved = {"c2s": 40001, "component": 40002, "http": 40003}
    ports, notes = try_it.choose_ports(saved, is_free=lambda port: True, spare=spares())
    assert ports == saved and notes == []


def test_a_last_port_now_busy_is_replaced_and_said():
    saved = {"c2s": 40001, "component": 40002, "http": 40003}
    ports, notes = try_it.choose_ports(saved, is_free=lambda port: port != 40002,
                                       spare=spares(40002, 40009))
    assert ports == {"c2s": 40001, "component": 40009, "http": 40003}
    assert notes == ["component port 40002 (the last run's) is in use by another program; using 40009 instead"]


def test_two_listeners_never_share_a_port():
    saved = {"c2s": 40001, "component": 40001, "http": 40003}
    ports, _ = try_it.choose_ports(saved, is_free=lambda port: True, spare=spares(40001, 40005))
    assert ports == {"c2s": 40001, "component": 40005, "http": 40003}


def test_port_is_free_sees_a_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not try_it.port_is_free(port)
    assert try_it.port_is_free(port)


def test_ports_are_kept_in_the_state_folder(tmp_path):
    assert try_it.read_ports(tmp_path) is None
    try_it.write_ports(tmp_path, {"c2s": 1, "component": 2, "http": 3})
    assert try_it.read_ports(tmp_path) == {"c2s": 1, "component": 2, "http": 3}
    (tmp_path / "ports.json").write_text("not json")
    assert try_it.read_ports(tmp_path) is None
