#!/usr/bin/env python3
"""Python client for the riskgrid scheduler's gRPC API (``riskgrid.v1.JobService``).

A single file: a small library (``Client``) and a command line over it. The gRPC
stubs are generated on first use from the repository's ``proto/`` directory with
``grpc_tools.protoc`` and cached in ``clients/python/_generated/<hash of the protos>/``
(regenerated whenever a .proto changes). ``RISKGRID_PROTO_DIR`` points at another
``proto/`` directory, e.g. when this file is copied out of the repository.

Requirements: ``pip install grpcio==1.76.0 grpcio-tools==1.76.0 protobuf==6.33.6``
(or ``scripts/venv.sh`` in the repository, which installs them into ``.venv``).

Library::

    from riskgrid_client import Client
    grid = Client("127.0.0.1:7878")                  # or "http://127.0.0.1:7878"
    result = grid.submit_and_wait(open("examples/european.yaml").read())
    print(result["pricing"]["portfolio"]["value"])  # exact IEEE doubles, never rounded

Command line::

    python clients/python/riskgrid_client.py --scheduler 127.0.0.1:7878 run examples/european.yaml
    python clients/python/riskgrid_client.py run job.yaml --json     # the result as JSON
    python clients/python/riskgrid_client.py submit job.yaml         # prints the job id
    python clients/python/riskgrid_client.py run var_historical.yaml --historical-csv returns.csv
    python clients/python/riskgrid_client.py result JOB | cancel JOB | jobs

mTLS (a scheduler serving off loopback requires it): give the CA, your certificate and
your key, all three (``--tls-ca``/``--tls-cert``/``--tls-key``, or ``$RISKGRID_TLS_CA``,
``$RISKGRID_TLS_CERT``, ``$RISKGRID_TLS_KEY`` as for the ``riskgrid`` CLI; in the library
``Client(address, tls_ca=..., tls_cert=..., tls_key=...)``). Your certificate's
``spiffe://`` identity decides your tenant; ``riskgrid certs init`` makes a set.

Results are plain dicts shaped like the ``JobResult`` message (proto field names;
64-bit integers as ints; enums by name; every field present, maps as dicts).
Errors from the scheduler raise ``RiskgridError`` with the gRPC status code and the
server's message, which names the offending field (e.g. ``job_yaml: analysis.paths: ...``);
the command line prints ``error: MESSAGE`` and exits 2 for INVALID_ARGUMENT, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator

DEFAULT_SCHEDULER = "127.0.0.1:7878"
_HERE = Path(__file__).resolve().parent


class RiskgridError(Exception):
    """A failed call: ``code`` is the gRPC status name (e.g. ``INVALID_ARGUMENT``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- generated stubs ---------------------------------------------------------------


def _proto_dir() -> Path:
    return Path(os.environ.get("RISKGRID_PROTO_DIR") or _HERE.parent.parent / "proto").resolve()


def _generate(proto_dir: Path, cache: Path, protos: list[Path], key: str) -> Path:
    """Runs protoc into a private directory, then renames it into place (atomic, so
    concurrent first uses never see half-written modules)."""
    import importlib.resources

    from grpc_tools import protoc

    target = cache / key
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
    try:
        well_known = importlib.resources.files("grpc_tools") / "_proto"
        args = ["protoc", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={tmp}", f"--grpc_python_out={tmp}"]
        args += [str(p.relative_to(proto_dir)) for p in protos]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {proto_dir} (see the messages above)")
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for stale in cache.iterdir():  # stubs of older protos
        if stale.name != key and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _load_stubs():
    """Generates (once per proto contents) and imports the riskgrid.v1 modules."""
    proto_dir = _proto_dir()
    protos = sorted(proto_dir.glob("riskgrid/v1/*.proto"))
    if not protos:
        raise RuntimeError(f"no riskgrid/v1/*.proto under {proto_dir} (set RISKGRID_PROTO_DIR)")
    digest = hashlib.sha256()
    for p in protos:
        digest.update(str(p.relative_to(proto_dir)).encode() + b"\0" + p.read_bytes() + b"\0")
    key = digest.hexdigest()[:16]
    try:
        gen = _generate(proto_dir, _HERE / "_generated", protos, key)
    except OSError:  # the checkout is read-only: use the temp dir instead
        gen = _generate(proto_dir, Path(tempfile.gettempdir()) / "riskgrid-client-stubs", protos, key)
    if str(gen) not in sys.path:
        sys.path.insert(0, str(gen))
    from riskgrid.v1 import jobs_pb2, jobs_pb2_grpc

    return jobs_pb2, jobs_pb2_grpc


# --- messages as dicts -------------------------------------------------------------


def to_dict(msg) -> dict[str, Any]:
    """A message as a plain dict: every field (defaults included, except unset
    optional/message fields and unset oneof members), 64-bit ints as ints, enums by
    name, doubles as the exact Python floats protobuf decoded."""
    out: dict[str, Any] = {}
    for field in msg.DESCRIPTOR.fields:
        value = getattr(msg, field.name)
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        if is_map:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _scalar(value_field, v) for k, v in value.items()}
        elif _is_repeated(field):
            out[field.name] = [_scalar(field, v) for v in value]
        elif field.has_presence and not msg.HasField(field.name):
            continue
        else:
            out[field.name] = _scalar(field, value)
    return out


def _is_repeated(field) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 6.32 (`label` is deprecated there)
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


def _scalar(field, value):
    if field.message_type is not None:
        return to_dict(value)
    if field.enum_type is not None:
        v = field.enum_type.values_by_number.get(value)
        return v.name if v is not None else value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


# --- the client --------------------------------------------------------------------


def _target(address: str) -> str:
    for scheme in ("http://", "https://", "grpc://"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
    return address.rstrip("/")


_TLS_ENV = ("RISKGRID_TLS_CA", "RISKGRID_TLS_CERT", "RISKGRID_TLS_KEY")


class TlsConfigError(ValueError):
    """Only some of the CA, certificate and key were given."""


def _tls_files(ca, cert, key) -> tuple[bytes, bytes, bytes] | None:
    """The PEM bytes of the CA, certificate and key (each defaulting to its environment
    variable), or ``None`` when none is given; ``TlsConfigError`` when only some are."""
    paths = [given or os.environ.get(env) or None for given, env in zip((ca, cert, key), _TLS_ENV)]
    if not any(paths):
        return None
    if not all(paths):
        raise TlsConfigError("tls_ca, tls_cert and tls_key (--tls-ca, --tls-cert, --tls-key) go together: "
                         "give all three or none")
    out = []
    for path, what in zip(paths, ("--tls-ca", "--tls-cert", "--tls-key")):
        try:
            out.append(Path(path).read_bytes())
        except OSError as e:
            raise OSError(f"{what} {path}: {e.strerror or e}") from None
    return out[0], out[1], out[2]


class Client:
    """A JobService client: plaintext, or mTLS when the CA, certificate and key are given.

    ``address`` is ``host:port``, ``http://host:port`` or ``https://host:port``; ``timeout``
    (seconds) bounds every unary call, and ``submit_and_wait``/``watch`` when ``wait_timeout``
    is given. ``tls_ca``, ``tls_cert`` and ``tls_key`` are PEM file paths (default
    ``$RISKGRID_TLS_CA``, ``$RISKGRID_TLS_CERT``, ``$RISKGRID_TLS_KEY``): all three or none.
    """

    def __init__(self, address: str | None = None, timeout: float = 30.0,
                 tls_ca: str | os.PathLike | None = None, tls_cert: str | os.PathLike | None = None,
                 tls_key: str | os.PathLike | None = None):
        import grpc

        self._grpc = grpc
        tls = _tls_files(tls_ca, tls_cert, tls_key)
        self._pb, pb_grpc = _load_stubs()
        self.address = _target(address or os.environ.get("RISKGRID_SCHEDULER") or DEFAULT_SCHEDULER)
        self.timeout = timeout
        self._tls = tls is not None
        if tls is None:
            self._channel = grpc.insecure_channel(self.address)
        else:
            ca, cert, key = tls
            creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
            self._channel = grpc.secure_channel(self.address, creds)
        self._stub = pb_grpc.JobServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout=None):
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout)
        except self._grpc.RpcError as e:
            raise self._error(e) from None

    def _error(self, e) -> RiskgridError:
        code = e.code() if hasattr(e, "code") else None
        name = code.name if code is not None else "UNKNOWN"
        details = e.details() if hasattr(e, "details") else None
        message = details or str(e)
        if name == "UNAVAILABLE" and not self._tls:
            message += (f" (is a scheduler listening on {self.address}? If it serves mTLS, "
                        "give --tls-ca, --tls-cert and --tls-key)")
        return RiskgridError(name, message)

    def _submit_request(self, spec_text, fmt, request_id, priority, tenant, historical_csv):
        if fmt not in ("yaml", "json"):
            raise ValueError(f"fmt must be 'yaml' or 'json', got {fmt!r}")
        spec = spec_text.encode("utf-8") if isinstance(spec_text, str) else bytes(spec_text)
        return self._pb.SubmitJobRequest(
            client_request_id=request_id or str(uuid.uuid4()),
            priority=priority,
            tenant=tenant,
            historical_csv=historical_csv,
            **{f"job_{fmt}": spec},
        )

    def submit(self, spec_text: str | bytes, fmt: str = "yaml", request_id: str | None = None,
               priority: int = 0, tenant: str = "", historical_csv: bytes = b"") -> str:
        """Submits a job file's text; returns its job id. A retry with the same
        ``request_id`` returns the job created the first time."""
        req = self._submit_request(spec_text, fmt, request_id, priority, tenant, historical_csv)
        return self._call(self._stub.SubmitJob, req).job_id

    def submit_and_wait(self, spec_text: str | bytes, fmt: str = "yaml", request_id: str | None = None,
                        priority: int = 0, tenant: str = "", historical_csv: bytes = b"",
                        wait_timeout: float | None = None) -> dict[str, Any]:
        """Submits a job and waits for its result (one SubmitAndWatch stream); returns
        the JobResult as a dict. Raises RiskgridError if the job fails or is cancelled."""
        req = self._pb.SubmitAndWatchRequest(
            submit=self._submit_request(spec_text, fmt, request_id, priority, tenant, historical_csv))
        events = self._events(self._stub.SubmitAndWatch, req, wait_timeout)
        return self._result_of(events)

    def watch(self, job_id: str, wait_timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Yields the job's events as dicts (``{"job_id", "sequence", "time_unix_ms",
        one of "state_change"/"progress"/"result"}``) until it reaches a terminal state."""
        req = self._pb.WatchJobRequest(job_id=job_id)
        for event in self._events(self._stub.WatchJob, req, wait_timeout):
            yield to_dict(event)

    def _events(self, method, request, wait_timeout):
        call = method(request, timeout=wait_timeout)
        try:
            # Read to the end of the stream: cancelling early resets the HTTP/2 stream.
            yield from call
        except self._grpc.RpcError as e:
            raise self._error(e) from None
        finally:
            call.cancel()  # a no-op once the stream has ended

    def _result_of(self, events) -> dict[str, Any]:
        result, job_id, last_state = None, "", None
        for event in events:
            job_id = event.job_id or job_id
            which = event.WhichOneof("event")
            if which == "result":
                result = to_dict(event.result)
            elif which == "state_change":
                last_state = event.state_change
        if result is not None:
            return result
        state = self._pb.JobState.Name(last_state.state) if last_state is not None else "unknown"
        reason = f": {last_state.reason}" if last_state is not None and last_state.reason else ""
        raise RiskgridError("FAILED_PRECONDITION", f"job {job_id} ended {state} without a result{reason}")

    def result(self, job_id: str) -> dict[str, Any]:
        """The final result of a SUCCEEDED job, as a dict."""
        return to_dict(self._call(self._stub.GetResult, self._pb.GetResultRequest(job_id=job_id)).result)

    def job(self, job_id: str) -> dict[str, Any]:
        """A job's summary and progress, as a dict."""
        return to_dict(self._call(self._stub.GetJob, self._pb.GetJobRequest(job_id=job_id)).job)

    def cancel(self, job_id: str, reason: str = "") -> dict[str, Any]:
        """Cancels a QUEUED or RUNNING job; returns ``{"state", "cancelled"}``."""
        req = self._pb.CancelJobRequest(job_id=job_id, reason=reason)
        return to_dict(self._call(self._stub.CancelJob, req))

    def jobs(self, tenant: str = "") -> list[dict[str, Any]]:
        """Every job of the tenant (all pages), newest first, as dicts."""
        out, token = [], ""
        while True:
            req = self._pb.ListJobsRequest(tenant=tenant, page_size=1000, page_token=token)
            page = self._call(self._stub.ListJobs, req)
            out += [to_dict(j) for j in page.jobs]
            token = page.next_page_token
            if not token:
                return out


# --- command line ------------------------------------------------------------------


def _read_spec(path: str) -> tuple[bytes, str]:
    fmt = "json" if path.lower().endswith(".json") else "yaml"
    return Path(path).read_bytes(), fmt


def _print_result(result: dict[str, Any]) -> None:
    pricing = result.get("pricing") or {}
    portfolio = pricing.get("portfolio") or {}
    print(f"job {result.get('job_id', '')}: {pricing.get('paths', 0)} paths per trade")
    for t in pricing.get("trades", []):
        print(f"  {t['id']:<14} {t['kind']:<10} qty {t['quantity']:>8g}  price {t['price']:.6f} ± {t['std_error']:.6f}")
    print(f"portfolio value {portfolio.get('value', 0.0):.6f} ± {portfolio.get('std_error', 0.0):.6f} (std error)")
    for level in (result.get("risk") or {}).get("levels", []):
        print(f"  VaR {level['confidence']:g}: {level['var']:.6f}   ES: {level['es']:.6f}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="riskgrid_client.py",
        description="Submit Monte Carlo risk jobs to a riskgrid scheduler over gRPC and fetch their results. "
        "Job files are YAML, or JSON when the name ends in .json (same schema as `riskgrid run`).",
        epilog="Exit status: 0 on success, 2 for a request the scheduler refuses as invalid "
        "(INVALID_ARGUMENT; the message names the field), 1 for any other error.",
    )
    p.add_argument("--scheduler", default=os.environ.get("RISKGRID_SCHEDULER") or DEFAULT_SCHEDULER,
                   help="scheduler address, host:port or http://host:port "
                   "(default: $RISKGRID_SCHEDULER, else %(default)s)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per unary call (default: %(default)s)")
    p.add_argument("--tls-ca", metavar="PEM", help="CA certificate the scheduler's must chain to; turns mTLS on "
                   "(default: $RISKGRID_TLS_CA)")
    p.add_argument("--tls-cert", metavar="PEM", help="your certificate; its spiffe:// identity is who you are "
                   "(default: $RISKGRID_TLS_CERT)")
    p.add_argument("--tls-key", metavar="PEM", help="your private key (default: $RISKGRID_TLS_KEY)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="submit a job file and wait for its result")
    run.add_argument("file", metavar="FILE")
    run.add_argument("--json", action="store_true", help="print the result as JSON (exact floats)")
    for cmd in (run, submit := sub.add_parser("submit", help="submit a job file; print its job id")):
        cmd.add_argument("--request-id", help="idempotency key (default: a new UUID)")
        cmd.add_argument("--priority", type=int, default=0, help="-100 to 100 within the tenant (default 0)")
        cmd.add_argument("--tenant", default="", help="tenant (default: the scheduler's `default`)")
        cmd.add_argument("--historical-csv", metavar="CSV",
                         help="the scenario file of a historical-VaR job (the file its "
                         "analysis.risk.scenarios.historical.file names)")
    submit.add_argument("file", metavar="FILE")
    result = sub.add_parser("result", help="print a succeeded job's result")
    result.add_argument("job", metavar="JOB")
    result.add_argument("--json", action="store_true", help="print the result as JSON (exact floats)")
    cancel = sub.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("job", metavar="JOB")
    cancel.add_argument("--reason", default="", help="why, for the job's record")
    jobs = sub.add_parser("jobs", help="list jobs, newest first, as JSON lines")
    jobs.add_argument("--tenant", default="", help="tenant (default: `default`)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        tls = dict(tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key)
        with Client(args.scheduler, timeout=args.timeout, **tls) as grid:
            if args.command in ("run", "submit"):
                spec, fmt = _read_spec(args.file)
                csv = Path(args.historical_csv).read_bytes() if args.historical_csv else b""
                opts = dict(fmt=fmt, request_id=args.request_id, priority=args.priority, tenant=args.tenant,
                            historical_csv=csv)
                if args.command == "submit":
                    print(grid.submit(spec, **opts))
                    return 0
                res = grid.submit_and_wait(spec, **opts)
            elif args.command == "result":
                res = grid.result(args.job)
            elif args.command == "cancel":
                print(json.dumps(grid.cancel(args.job, args.reason)))
                return 0
            else:
                for job in grid.jobs(args.tenant):
                    print(json.dumps(job))
                return 0
            if args.json:
                print(json.dumps(res, indent=2))
            else:
                _print_result(res)
            return 0
    except RiskgridError as e:
        hint = ""
        if e.message.startswith("historical_csv: the spec uses historical scenarios"):
            hint = " (give the file with --historical-csv CSV)"
        print(f"error: {e.message}{hint}", file=sys.stderr)
        return 2 if e.code == "INVALID_ARGUMENT" else 1
    except TlsConfigError as e:
        parser.error(str(e))
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
