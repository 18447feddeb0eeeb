"""Kafka TLS/SASL settings: validation, and what every client is given."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import AuthProtocol, SASLMechanism

from worker import cli, security
from worker.settings import Settings


def _sasl(**extra: str) -> dict[str, str]:
    return {
        "NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL",
        "NEWSWIRE_SASL_USERNAME": "ingest",
        "NEWSWIRE_SASL_PASSWORD": "s3cret",
        **extra,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSWIRE_SECURITY_PROTOCOL": "TLS"}, "NEWSWIRE_SECURITY_PROTOCOL must be one of"),
        (_sasl(NEWSWIRE_SASL_MECHANISM="GSSAPI"), "NEWSWIRE_SASL_MECHANISM must be one of"),
        ({"NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL", "NEWSWIRE_SASL_PASSWORD": "x"},
         "NEWSWIRE_SASL_USERNAME is required"),
        ({"NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL", "NEWSWIRE_SASL_USERNAME": "u"},
         "exactly one of NEWSWIRE_SASL_PASSWORD"),
        (_sasl(NEWSWIRE_SASL_PASSWORD_FILE="/etc/hostname"), "exactly one of"),
        # Credentials with a protocol that ignores them would connect in plain text.
        ({"NEWSWIRE_SASL_USERNAME": "u", "NEWSWIRE_SASL_PASSWORD": "p"},
         "NEWSWIRE_SECURITY_PROTOCOL is PLAINTEXT"),
        ({"NEWSWIRE_SSL_CAFILE": "/etc/hostname"}, "NEWSWIRE_SECURITY_PROTOCOL is PLAINTEXT"),
        (_sasl(NEWSWIRE_SSL_CAFILE="/nonexistent/ca.pem"), "NEWSWIRE_SSL_CAFILE: no such file"),
        ({**_sasl(NEWSWIRE_SASL_PASSWORD=""),
          "NEWSWIRE_SASL_PASSWORD_FILE": "/nonexistent/pw"},
         "NEWSWIRE_SASL_PASSWORD_FILE: no such file"),
    ],
)
def test_inconsistent_security_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_plaintext_clients_get_no_tls_and_no_login() -> None:
    settings = Settings()
    assert security.client_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials(settings) is None
    security.check_login(settings)  # a no-op: nothing to refuse


def test_sasl_ssl_clients_verify_the_broker_and_log_in() -> None:
    settings = Settings.from_env(_sasl(NEWSWIRE_SASL_MECHANISM="SCRAM-SHA-512"))
    options = security.client_options(settings)
    context = options.pop("ssl_context")
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ingest",
        "sasl_plain_password": "s3cret",
    }
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname

    credentials = security.faust_credentials(settings)
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_SSL
    assert credentials.mechanism == SASLMechanism.SCRAM_SHA_512
    assert (credentials.username, credentials.password) == ("ingest", "s3cret")
    assert credentials.ssl_context is not None
    assert credentials.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_sasl_plaintext_has_no_tls() -> None:
    settings = Settings.from_env(_sasl(NEWSWIRE_SECURITY_PROTOCOL="SASL_PLAINTEXT"))
    assert "ssl_context" not in security.client_options(settings)
    credentials = security.faust_credentials(settings)
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_PLAINTEXT


def test_ssl_alone_verifies_against_the_given_ca() -> None:
    # certifi's bundle (installed with requests) stands in for a private CA file.
    import certifi

    settings = Settings.from_env(
        {"NEWSWIRE_SECURITY_PROTOCOL": "SSL", "NEWSWIRE_SSL_CAFILE": certifi.where()}
    )
    options = security.client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].get_ca_certs(), "the CA file was not loaded"
    credentials = security.faust_credentials(settings)
    assert isinstance(credentials, SSLCredentials)
    assert credentials.protocol == AuthProtocol.SSL


def test_password_file_is_read_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-secret\n")
    settings = Settings.from_env(
        _sasl(NEWSWIRE_SASL_PASSWORD="", NEWSWIRE_SASL_PASSWORD_FILE=str(secret))
    )
    assert security.client_options(settings)["sasl_plain_password"] == "from-a-secret"


def test_the_password_is_never_shown(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    env = _sasl(NEWSWIRE_SASL_PASSWORD="hunter2-unique")
    assert "hunter2-unique" not in repr(Settings.from_env(env))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2-unique" not in out
    assert "NEWSWIRE_SASL_PASSWORD=(set, not shown)" in out
    assert "NEWSWIRE_SASL_USERNAME=ingest" in out


def test_the_worker_app_gets_the_credentials(tmp_path: Path) -> None:
    from worker.app import create_app

    settings = Settings.from_env(
        {**_sasl(), "NEWSWIRE_STORE": "memory://", "NEWSWIRE_DATADIR": str(tmp_path),
         "NEWSWIRE_PROCESSES": "0"}
    )
    app = create_app(settings, prometheus=False).app
    assert isinstance(app.conf.broker_credentials, SASLCredentials)
    assert app.conf.broker_credentials.username == "ingest"


def test_a_refused_login_ends_the_command_with_exit_code_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(settings: Settings, timeout_s: float = 10.0) -> None:
        raise security.KafkaLoginError("Kafka at h:1 refused the login of user 'ingest'")

    monkeypatch.setattr(cli, "check_login", refuse)
    assert cli.main(["dlq", "list"]) == cli.EXIT_LOGIN_REFUSED
    assert "kafka authentication failed: Kafka at h:1 refused" in capsys.readouterr().err


def test_an_unreachable_broker_is_not_a_refused_login() -> None:
    # Nothing listens on port 9 of loopback: the probe leaves that to the
    # clients' own retries instead of calling it an authentication failure.
    settings = Settings.from_env(_sasl(NEWSWIRE_BROKER="127.0.0.1:9"))
    security.check_login(settings, timeout_s=2.0)
