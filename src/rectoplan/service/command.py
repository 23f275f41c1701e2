"""`rectoplan serve`: the CLI plugin that starts the CDS Hooks service (fastapi/uvicorn imported lazily)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

SETTINGS_ENV = "RECTOPLAN_SERVE_SETTINGS"  # how the parent passes its settings to worker processes


def _issuer(text: str) -> tuple[str, str]:
    issuer, sep, jwks = text.rpartition("=")
    if not sep or not issuer or not jwks:
        raise argparse.ArgumentTypeError(f"{text!r}: expected ISSUER=JWKS (a JWKS file path or an https URL)")
    if not jwks.startswith(("https://", "http://")) and not Path(jwks).is_file():
        raise argparse.ArgumentTypeError(f"JWKS file {jwks!r} does not exist")
    return issuer, jwks


def _fhir_server(text: str) -> tuple[str, str]:
    """`URL` (for every trusted issuer) or `ISSUER=URL`: a FHIR base URL the service may fetch from."""
    from rectoplan.service.fetch import ANY_ISSUER, normalise

    issuer, sep, base = text.partition("=")
    if not sep or not base.startswith(("http://", "https://")):
        issuer, base = ANY_ISSUER, text
    if not issuer or normalise(base, base=True) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a FHIR base URL such as https://fhir.example.org/r4 (no query), or ISSUER=URL"
        )
    return issuer, base


def _fhir_file(text: str) -> list[tuple[str, str]]:
    """A JSON file {"ISSUER or *": ["https://fhir.example.org/r4", ...]} of allowed FHIR base URLs."""
    try:
        data = json.loads(Path(text).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{text}: cannot be read as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(u, str) for u in v) for k, v in data.items()
    ):
        raise argparse.ArgumentTypeError(f'{text}: expected {{"ISSUER or *": ["https://fhir.example.org/r4"]}}')
    return [_fhir_server(f"{issuer}={url}" if issuer != "*" else url) for issuer, urls in data.items() for url in urls]


def register(commands: Any, kb_commands: Any) -> None:
    """Add `serve` to the top-level subcommands.

    Long by design: the argparse declaration of `serve`, one call per option."""
    parser = commands.add_parser(
        "serve",
        help="run the HL7 CDS Hooks service, POST /recommend and the web page",
        description="Serve rectoplan over HTTP: CDS Hooks 2.0 discovery and services, POST /recommend "
        "(contract 1 in, contract 2 out, OpenAPI at /openapi.json) and a page at /. Every API call must "
        "carry "
        "the EHR's JWT (signed by a trusted issuer) unless --insecure-dev is given.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="development only: accept calls without a JWT and let fhirServer be plain http",
    )
    parser.add_argument(
        "--jwt-issuer",
        action="append",
        type=_issuer,
        default=[],
        metavar="ISSUER=JWKS",
        help="trust JWTs with this 'iss', verified with this JWKS file or https URL (repeatable)",
    )
    parser.add_argument(
        "--public-url",
        help="base URL the EHR calls, checked against the JWT 'aud' (needed behind a proxy, or when the EHR "
        "calls the service by another name than --host:--port, e.g. localhost)",
    )
    parser.add_argument(
        "--fhir-server",
        action="append",
        type=_fhir_server,
        default=[],
        metavar="[ISSUER=]URL",
        help="a FHIR base URL the service may fetch missing prefetch from (for that issuer only, or for any "
        "trusted issuer); repeatable. Any other fhirServer is refused (403)",
    )
    parser.add_argument(
        "--fhir-servers-file",
        type=_fhir_file,
        default=[],
        metavar="FILE",
        help='JSON {"ISSUER or *": [FHIR base URLs]}, the same allow-list as --fhir-server',
    )
    parser.add_argument(
        "--fhir-timeout",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="one deadline for all FHIR fetches of a hook call (default 3; an EHR waits about 5)",
    )
    parser.add_argument(
        "--max-token-lifetime",
        type=_positive,
        default=300,
        metavar="SECONDS",
        help="longest JWT lifetime (exp - iat) accepted (default 300)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allowed browser origin (repeatable; default: any origin, no cookies)",
    )
    parser.add_argument("--max-body", type=int, default=2_000_000, metavar="BYTES", help="request size limit")
    parser.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes (default 1; one per core serves more requests; they share one JWT replay cache)",
    )
    parser.set_defaults(handler=serve)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"found {text!r}; expected a whole number of at least 1")
    return value


def app_from_environment() -> Any:
    """The app factory each worker process calls (uvicorn imports it by name): settings from the parent."""
    from rectoplan.service.app import Settings, create_app
    from rectoplan.service.transport import GuardedHttpTools

    settings = Settings.from_json(os.environ[SETTINGS_ENV])
    GuardedHttpTools.configure(settings)  # this worker's HTTP limits
    _log_to_stderr()
    return create_app(settings)


def _log_to_stderr() -> None:
    """Access-log and service lines (one JSON object each) to stderr, where `serve` users read them."""
    import logging

    for name in ("rectoplan.access", "rectoplan.service"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def serve(args: argparse.Namespace) -> int:
    """Start uvicorn; refuse to start in secure mode without a trusted issuer.

    Long by design: the start-up checks, in the order they are reported."""
    if not args.insecure_dev and not args.jwt_issuer:
        print(
            "serve: no trusted JWT issuer; pass --jwt-issuer ISSUER=JWKS, or --insecure-dev for local development only",
            file=sys.stderr,
        )
        return 2
    plain = [jwks for _, jwks in args.jwt_issuer if jwks.startswith("http://")]
    if plain and not args.insecure_dev:
        print(f"serve: JWKS URL {plain[0]!r} is plain http; use https (http only with --insecure-dev)", file=sys.stderr)
        return 2
    servers = [*args.fhir_server, *args.fhir_servers_file]
    plain = [url for _, url in servers if url.startswith("http://")]
    if plain and not args.insecure_dev:
        print(
            f"serve: FHIR server {plain[0]!r} is plain http; use https (http only with --insecure-dev)", file=sys.stderr
        )
        return 2
    try:
        import uvicorn

        from rectoplan.service.app import Settings, create_app
        from rectoplan.service.transport import uvicorn_options
    except ImportError as exc:
        print(
            f"serve: the service extra is not installed ({exc.name}); pip install 'rectoplan[service,fhir]'",
            file=sys.stderr,
        )
        return 2
    # The JWT 'aud' is checked against this base URL, never against the request's Host header (which a
    # caller chooses): behind a proxy or on a public interface, --public-url says what the EHR calls.
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    if not args.public_url and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"serve: no --public-url; JWT audiences must start with {public_url}", file=sys.stderr)
    settings = Settings(
        insecure_dev=args.insecure_dev,
        issuers=dict(args.jwt_issuer),
        public_url=public_url,
        max_body_bytes=args.max_body,
        cors_origins=tuple(args.cors_origin) or ("*",),
        fhir_servers=tuple(servers),
        fhir_timeout_s=args.fhir_timeout,
        max_token_lifetime_s=args.max_token_lifetime,
    )
    if args.insecure_dev:
        print(
            "serve: --insecure-dev: JWTs are NOT checked; never use this with real patient data",
            file=sys.stderr,
        )
    common: dict[str, Any] = {"host": args.host, "port": args.port, "access_log": False, "log_level": "warning"}
    common |= uvicorn_options(settings)
    _log_to_stderr()
    listening = {"event": "listening", "url": f"http://{args.host}:{args.port}", "public_url": public_url}
    listening |= {"workers": args.workers, "insecure_dev": args.insecure_dev, "fhir_servers": len(servers)}
    print(json.dumps(listening), file=sys.stderr, flush=True)
    if args.workers == 1:
        uvicorn.run(create_app(settings), **common)
        return 0
    private = tempfile.mkdtemp(prefix="rectoplan-serve-")  # mode 0700: only this user's processes
    try:
        settings = dataclasses.replace(settings, replay_file=str(Path(private) / "jwt-replay.sqlite"))
        os.environ[SETTINGS_ENV] = settings.to_json()
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=args.workers, **common)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return 0
