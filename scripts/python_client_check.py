#!/usr/bin/env python3
"""Checks a running ProtoRad server from an independent gRPC stack (Python grpcio).

Lists the services through server reflection, checks health, and calls one RPC expecting a
given status code. Needs Debian's python3-grpcio and python3-grpc-tools, and a built server
(the reflection and health .proto files are read from the grpc-services jar in cli/target/lib).

    ./scripts/python_client_check.py 127.0.0.1:50051
"""
import glob
import importlib
import os
import sys
import tempfile
import zipfile

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def compile_protos(workdir):
    jars = glob.glob(os.path.join(ROOT, "cli", "target", "lib", "grpc-services-*.jar"))
    if not jars:
        sys.exit("build the server first (./protorad --version)")
    # Stored under other directory names: a top-level "grpc" package would shadow grpcio.
    with zipfile.ZipFile(jars[0]) as jar:
        for name, local in (("grpc/reflection/v1/reflection.proto", "rpcreflect/reflection.proto"),
                            ("grpc/health/v1/health.proto", "rpchealth/health.proto")):
            os.makedirs(os.path.join(workdir, os.path.dirname(local)), exist_ok=True)
            with open(os.path.join(workdir, local), "wb") as out:
                out.write(jar.read(name))
    api = os.path.join(ROOT, "proto", "src", "main", "proto")
    files = ["rpcreflect/reflection.proto", "rpchealth/health.proto"]
    files += [os.path.relpath(p, api) for p in glob.glob(os.path.join(api, "protorad/v1/*.proto"))]
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc", "-I" + workdir, "-I" + api, "-I" + include, "--python_out=" + workdir,
            "--grpc_python_out=" + workdir] + files
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, workdir)


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    api_key = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as work:
        compile_protos(work)
        refl = importlib.import_module("rpcreflect.reflection_pb2")
        refl_grpc = importlib.import_module("rpcreflect.reflection_pb2_grpc")
        health = importlib.import_module("rpchealth.health_pb2")
        health_grpc = importlib.import_module("rpchealth.health_pb2_grpc")
        audit = importlib.import_module("protorad.v1.audit_pb2")
        audit_grpc = importlib.import_module("protorad.v1.audit_pb2_grpc")
        with grpc.insecure_channel(target) as channel:
            stub = refl_grpc.ServerReflectionStub(channel)
            request = refl.ServerReflectionRequest(list_services="")
            for response in stub.ServerReflectionInfo(iter([request]), timeout=10):
                names = [s.name for s in response.list_services_response.service]
                print("services:", ", ".join(sorted(names)))
            status = health_grpc.HealthStub(channel).Check(health.HealthCheckRequest(), timeout=10)
            print("health:", health.HealthCheckResponse.ServingStatus.Name(status.status))
            metadata = [("authorization", "Bearer " + api_key)] if api_key else []
            try:
                audit_grpc.AuditServiceStub(channel).VerifyAuditLog(
                    audit.VerifyAuditLogRequest(), timeout=10, metadata=metadata)
                print("VerifyAuditLog: OK")
            except grpc.RpcError as e:
                print("VerifyAuditLog:", e.code().name)


if __name__ == "__main__":
    main()
