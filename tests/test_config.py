"""Configuration: defaults, overrides, the secret from the environment, and
one-line errors that name the key."""

import pytest

from mucsvc.config import ConfigError, load_config, parse_config

MINIMAL = {"jid": "muc.example.org", "component_secret": "s3cret",
           "http_muc_kick_authorization_header": "Bearer kick"}


def test_defaults():
    config = parse_config(MINIMAL, environ={})
    assert config.jid == "muc.example.org"
    assert config.component_host == "127.0.0.1"
    assert config.component_port == 5347
    assert config.http_endpoint == "tcp:5280:interface=127.0.0.1"
    assert config.http_muc_kick_authorization_header == "Bearer kick"
    assert config.admins == ()
    assert config.log_traffic is False


def test_secret_is_not_in_repr():
    assert "s3cret" not in repr(parse_config(MINIMAL, environ={}))


def test_secret_from_environment():
    config = parse_config({"jid": "muc.example.org", "http_muc_kick_authorization_header": "Bearer kick"},
                          environ={"MUCSVC_COMPONENT_SECRET": "from-env"})
    assert config.component_secret == "from-env"


def test_file_secret_wins_over_environment():
    config = parse_config(MINIMAL, environ={"MUCSVC_COMPONENT_SECRET": "from-env"})
    assert config.component_secret == "s3cret"


def test_overrides_replace_file_values_and_none_keeps_them():
    config = parse_config(dict(MINIMAL, component_port=1234),
                          {"component_port": 5555, "jid": None}, environ={})
    assert config.component_port == 5555
    assert config.jid == "muc.example.org"


def test_jid_and_admins_are_normalised():
    config = parse_config(dict(MINIMAL, jid="MUC.Example.ORG", admins=["Admin@Example.ORG"]),
                          environ={})
    assert config.jid == "muc.example.org"
    assert config.admins == ("admin@example.org",)


@pytest.mark.parametrize("raw, key, words", [
    ({"jidd": "x"}, "jidd", "unknown key (did you mean 'jid'?)"),
    ({"component_port": "5347"}, "component_port", "must be an integer, not a string"),
    ({"component_port": True}, "component_port", "must be an integer, not a boolean"),
    ({"component_port": 70000}, "component_port", "not a TCP port"),
    ({"log_traffic": "yes"}, "log_traffic", "must be true or false"),
    ({"admins": "admin@example.org"}, "admins", "must be a list of bare JIDs"),
    ({"admins": ["admin@example.org/phone"]}, "admins", "must be a bare JID"),
    ({"admins": ["a@@b"]}, "admins", "malformed JID"),
    ({"jid": "room@muc.example.org"}, "jid", "must be a bare domain"),
    ({"jid": "bad host"}, "jid", "malformed JID"),
    ({"http_endpoint": "tcp:notaport"}, "http_endpoint", "cannot parse endpoint"),
    ({"http_endpoint": "carrier-pigeon:1"}, "http_endpoint", "cannot parse endpoint"),
    ({"http_muc_kick_authorization_header": ""}, "http_muc_kick_authorization_header",
     "empty; some authorization must be configured for POST /muc_kick"),
    ({"http_muc_kick_authorization_header": " \t"}, "http_muc_kick_authorization_header", "empty"),
    ({"http_muc_kick_authorization_header": "Bearer x "}, "http_muc_kick_authorization_header",
     "must not begin or end with white space"),
    ({"http_muc_kick_authorization_header": "Bearer\nx"}, "http_muc_kick_authorization_header",
     "must be one line"),
])
def test_mistakes_name_the_key(raw, key, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(dict(MINIMAL, **raw), environ={})
    message = str(caught.value)
    assert caught.value.key == key
    assert message.startswith(f"config key '{key}': ")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize("missing", ["jid", "component_secret", "http_muc_kick_authorization_header"])
def test_required_keys(missing):
    raw = dict(MINIMAL)
    del raw[missing]
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, environ={})
    assert caught.value.key == missing
    assert "missing" in str(caught.value)


def test_load_reads_toml(tmp_path):
    path = tmp_path / "muc.toml"
    path.write_text('jid = "muc.example.org"\ncomponent_secret = "x"\nadmins = ["a@b.c"]\n'
                    'http_muc_kick_authorization_header = "Bearer kick"\n')
    assert load_config(path, environ={}).admins == ("a@b.c",)


def test_load_reports_bad_toml_in_one_line(tmp_path):
    path = tmp_path / "muc.toml"
    path.write_text('jid = "unterminated\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "is not valid TOML" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_load_reports_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_example_config_is_valid():
    import pathlib

    example = pathlib.Path(__file__).parent.parent / "example.toml"
    config = load_config(example, environ={"MUCSVC_COMPONENT_SECRET": "from the environment"})
    assert config.jid == "muc.localhost"
    # The example leaves the secret to the environment, as the README's command line does.
    assert config.component_secret == "from the environment"


def test_secrets_from_private_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    header = tmp_path / "header"
    header.write_text("Bearer token")
    header.chmod(0o400)
    config = parse_config({"jid": "muc.example.org", "component_secret_file": str(secret),
                           "http_muc_kick_authorization_header_file": str(header)}, environ={})
    assert config.component_secret == "s3cret"
    assert config.http_muc_kick_authorization_header == "Bearer token"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_secret_file_readable_by_others_is_refused(tmp_path, mode):
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    secret.chmod(mode)
    with pytest.raises(ConfigError) as caught:
        parse_config({"jid": "muc.example.org", "component_secret_file": str(secret),
                      "http_muc_kick_authorization_header": "k"}, environ={})
    assert caught.value.key == "component_secret_file"
    assert "readable by others" in str(caught.value) and "s3cret" not in str(caught.value)


def test_secret_in_both_places_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0o600)
    with pytest.raises(ConfigError, match="not both"):
        parse_config(dict(MINIMAL, component_secret_file=str(secret)), environ={})


def test_the_moderation_endpoint_header_is_optional_and_checked(tmp_path):
    base = {"jid": "muc.example.org", "component_secret": "x",
            "http_muc_kick_authorization_header": "Bearer kick"}
    assert parse_config(base, environ={}).http_muc_moderate_authorization_header is None
    config = parse_config({**base, "http_muc_moderate_authorization_header": "Bearer m0d"},
                          environ={})
    assert config.http_muc_moderate_authorization_header == "Bearer m0d"
    assert "m0d" not in repr(config)
    for value in ("", " Bearer x", "Bearer\nx", 5):
        with pytest.raises(ConfigError) as caught:
            parse_config({**base, "http_muc_moderate_authorization_header": value}, environ={})
        assert caught.value.key == "http_muc_moderate_authorization_header"
    header = tmp_path / "moderate"
    header.write_text("Bearer from-file\n")
    header.chmod(0o600)
    config = parse_config({**base, "http_muc_moderate_authorization_header_file": str(header)},
                          environ={})
    assert config.http_muc_moderate_authorization_header == "Bearer from-file"


def test_the_room_admin_api_header_is_optional_and_checked(tmp_path):
    base = {"jid": "muc.example.org", "component_secret": "x",
            "http_muc_kick_authorization_header": "Bearer kick"}
    assert parse_config(base, environ={}).http_muc_admin_authorization_header is None
    config = parse_config({**base, "http_muc_admin_authorization_header": "Bearer 4dm"},
                          environ={})
    assert config.http_muc_admin_authorization_header == "Bearer 4dm"
    assert "4dm" not in repr(config)
    for value in ("", " Bearer x", "Bearer\nx", 5):
        with pytest.raises(ConfigError) as caught:
            parse_config({**base, "http_muc_admin_authorization_header": value}, environ={})
        assert caught.value.key == "http_muc_admin_authorization_header"
    header = tmp_path / "admin"
    header.write_text("Bearer from-file\n")
    header.chmod(0o600)
    config = parse_config({**base, "http_muc_admin_authorization_header_file": str(header)},
                          environ={})
    assert config.http_muc_admin_authorization_header == "Bearer from-file"
