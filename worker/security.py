"""Kafka TLS and SASL from the settings, for every client newswire opens.

Faust's aiokafka clients get ``broker_credentials``; the kafka-python clients
(topic admin, produce, tail, dlq, demo) get ``client_options``. kafka-python and
aiokafka name these options alike, so one dict serves both.

``check_login`` exists because neither client library says plainly that the
broker refused the password: kafka-python retries the bootstrap until its
timeout and then reports "Unable to bootstrap", and aiokafka logs the reason
and raises a connection error. One direct connection per broker tells a
refused login (fatal, named) from a broker that is not up yet (retried).
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.settings import Settings

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


class KafkaLoginError(RuntimeError):
    """The broker refused our credentials or we refused its certificate: retrying
    cannot help, so callers stop with this message instead of waiting."""


def sasl_password(settings: Settings) -> str:
    if settings.sasl_password_file:
        return Path(settings.sasl_password_file).read_text(encoding="utf-8").rstrip("\r\n")
    return settings.sasl_password


def uses_tls(settings: Settings) -> bool:
    return settings.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """Verifying context (certificate chain and host name) for SSL/SASL_SSL."""
    if not uses_tls(settings):
        return None
    return ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=settings.ssl_cafile or None
    )


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for a kafka-python (or aiokafka) client."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if uses_sasl(settings):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=sasl_password(settings),
        )
    return options


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """``broker_credentials`` for faust.App (None: plain text)."""
    from faust.auth import SASLCredentials, SSLCredentials

    context = ssl_context(settings)
    if uses_sasl(settings):
        # With an ssl_context Faust speaks SASL_SSL, without one SASL_PLAINTEXT.
        return SASLCredentials(
            username=settings.sasl_username,
            password=sasl_password(settings),
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return SSLCredentials(context)
    return None


def _refusal(settings: Settings, server: str, exc: BaseException) -> str | None:
    from aiokafka.errors import (  # type: ignore[import-untyped]
        SaslAuthenticationFailed,
        UnsupportedSaslMechanismError,
    )

    if isinstance(exc, SaslAuthenticationFailed):
        return (
            f"Kafka at {server} refused the login of user {settings.sasl_username!r} "
            f"({settings.sasl_mechanism}): authentication failed: {exc}. Check "
            "NEWSWIRE_SASL_USERNAME and NEWSWIRE_SASL_PASSWORD(_FILE)"
        )
    if isinstance(exc, UnsupportedSaslMechanismError):
        return (
            f"Kafka at {server} does not offer SASL mechanism {settings.sasl_mechanism}: "
            f"{exc}. Check NEWSWIRE_SASL_MECHANISM"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of Kafka at {server} is not trusted: {exc.verify_message}. "
            "Check NEWSWIRE_SSL_CAFILE"
        )
    return None


async def _probe(settings: Settings, timeout_s: float) -> None:
    from aiokafka.conn import create_conn  # type: ignore[import-untyped]

    options = client_options(settings)
    for server in settings.bootstrap_servers:
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout_s * 1000), **options),
                timeout_s,
            )
        except Exception as exc:
            message = _refusal(settings, server, exc)
            if message is not None:
                raise KafkaLoginError(message) from None
            continue  # not reachable (yet): the client's own retries handle that
        conn.close()
        return


def check_login(settings: Settings, timeout_s: float = 10.0) -> None:
    """Raise KafkaLoginError when a broker refuses the configured credentials or
    presents a certificate we do not trust; a no-op for PLAINTEXT."""
    if settings.security_protocol == "PLAINTEXT":
        return
    asyncio.run(_probe(settings, timeout_s))
