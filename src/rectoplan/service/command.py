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


def register(commands: Any, kb_commands: Any) -> None:
    """Add `serve` to the top-level subcommands."""
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
    parser.add_argument("--public-url", help="base URL the EHR calls (for the JWT 'aud'), when behind a proxy")
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

    data = json.loads(os.environ[SETTINGS_ENV])
    data["cors_origins"] = tuple(data["cors_origins"])
    return create_app(Settings(**data))


def serve(args: argparse.Namespace) -> int:
    """Start uvicorn; refuse to start in secure mode without a trusted issuer."""
    if not args.insecure_dev and not args.jwt_issuer:
        print(
            "serve: no trusted JWT issuer; pass --jwt-issuer ISSUER=JWKS, or --insecure-dev for local development only",
            file=sys.stderr,
        )
        return 2
    try:
        import uvicorn

        from rectoplan.service.app import Settings, create_app
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
    )
    if args.insecure_dev:
        print(
            "serve: --insecure-dev: JWTs are NOT checked; never use this with real patient data",
            file=sys.stderr,
        )
    common: dict[str, Any] = {"host": args.host, "port": args.port, "access_log": False, "log_level": "warning"}
    if args.workers == 1:
        uvicorn.run(create_app(settings), **common)
        return 0
    private = tempfile.mkdtemp(prefix="rectoplan-serve-")  # mode 0700: only this user's processes
    try:
        settings = dataclasses.replace(settings, replay_file=str(Path(private) / "jwt-replay.sqlite"))
        os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=args.workers, **common)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return 0
