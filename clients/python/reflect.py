#!/usr/bin/env python3
"""grpcurl's ``list``, ``describe`` and unary calls, through the scheduler's reflection service.

For machines without grpcurl: everything comes from the server (gRPC server reflection,
``grpc.reflection.v1alpha``), nothing from the local ``.proto`` files.

    python clients/python/reflect.py --scheduler 127.0.0.1:7878 list
    python clients/python/reflect.py describe riskgrid.v1.JobService
    python clients/python/reflect.py call riskgrid.v1.JobService/ListJobs '{}'
    python clients/python/reflect.py call grpc.health.v1.Health/Check '{"service": "riskgrid.v1.JobService"}'

Requirements: ``pip install grpcio==1.76.0 grpcio-reflection==1.76.0 protobuf==6.33.6``.
Exit status: 0, 1 when the call fails (the gRPC status on stderr), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheduler", default=os.environ.get("RISKGRID_SCHEDULER", "127.0.0.1:7878"),
                        help="host:port or http://host:port (default: $RISKGRID_SCHEDULER or 127.0.0.1:7878)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default 10)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the services the server offers, one per line")
    d = sub.add_parser("describe", help="a service's methods with their request and response types")
    d.add_argument("service")
    c = sub.add_parser("call", help="a unary method with a JSON request; prints the JSON response")
    c.add_argument("method", help="SERVICE/METHOD, e.g. riskgrid.v1.JobService/ListJobs")
    c.add_argument("request", nargs="?", default="{}", help="the request as JSON (default {})")
    args = parser.parse_args(argv)

    import grpc
    from google.protobuf import json_format, message_factory
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    address = args.scheduler.removeprefix("http://").removeprefix("https://").rstrip("/")
    with grpc.insecure_channel(address) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        pool = DescriptorPool(db)
        try:
            if args.command == "list":
                for name in sorted(db.get_services()):
                    print(name)
                return 0
            if args.command == "describe":
                service = pool.FindServiceByName(args.service)
                for m in service.methods:
                    stream = ("stream " if m.client_streaming else "", "stream " if m.server_streaming else "")
                    print(f"rpc {m.name}({stream[0]}{m.input_type.full_name}) returns ({stream[1]}{m.output_type.full_name})")
                return 0
            service_name, _, method_name = args.method.rpartition("/")
            if not service_name:
                print(f"error: method: expected SERVICE/METHOD, got {args.method!r}", file=sys.stderr)
                return 2
            method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
            if method is None:
                print(f"error: method: {service_name} has no method {method_name!r}", file=sys.stderr)
                return 2
            if method.client_streaming or method.server_streaming:
                print(f"error: method: {args.method} is streaming; only unary calls are supported", file=sys.stderr)
                return 2
            request_type = message_factory.GetMessageClass(method.input_type)
            response_type = message_factory.GetMessageClass(method.output_type)
            try:
                request = json_format.Parse(args.request, request_type())
            except json_format.ParseError as e:
                print(f"error: request: {e}", file=sys.stderr)
                return 2
            call = channel.unary_unary(f"/{service_name}/{method_name}",
                                       request_serializer=request_type.SerializeToString,
                                       response_deserializer=response_type.FromString)
            response = call(request, timeout=args.timeout)
            print(json_format.MessageToJson(response, preserving_proto_field_name=True, indent=2))
            return 0
        except KeyError as e:  # the descriptor pool's "not found"
            print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
            return 2
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
