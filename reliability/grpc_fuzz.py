"""Bad input against the sla-manager's gRPC service (proto/sla.proto), for reliability/fuzz.sh.

Usage: grpc_fuzz.py HOST:PORT --cases N --seed S --out FILE

The service has one method, `sla.SlaService/GetSLASet(SLARequest) returns (stream ...)`, whose
request is empty: what a client can get wrong is the bytes of that request, the method path, the
metadata, the deadline and the stream's life. Each generated case belongs to one class, and each
class has the gRPC status codes the server may answer:

  random-bytes     any bytes as the request: OK (unknown fields of a valid encoding are skipped),
                   INTERNAL "failed to decode Protobuf message" (gRPC's status for a request
                   that does not parse, statuscodes.md; tonic's codec answers it) or, over the
                   server's 4 KiB request limit (GRPC_MAX_REQUEST_BYTES), OUT_OF_RANGE
  valid-unknown    well-formed protobuf with unknown fields of every wire type: OK
  oversized        a 4 MiB request, far over the server's limit: RESOURCE_EXHAUSTED or
                   OUT_OF_RANGE
  unknown-method   a random method of the service or of another one: UNIMPLEMENTED
  metadata         random ASCII metadata keys and values (at most 4 KiB): OK
  deadline         a 1-50 ms deadline: OK, DEADLINE_EXCEEDED (the client's) or CANCELLED
                   "Timeout expired" (tonic's answer when the server sees the deadline pass)
  cancel           the stream cancelled after its first message: OK or CANCELLED

Any other answer is a failure: UNKNOWN (a handler's panic or an unmapped error), INTERNAL where
the request parsed, UNAVAILABLE (the server or the connection died). Between classes and at the
end, a valid call must still return the same messages as before the run. Prints one line per
class and the failures; exits 1 when any case failed.
"""

import argparse
import collections
import random
import sys
import time

import grpc

METHOD = "/sla.SlaService/GetSLASet"
# Far over the server's own request limit (4 KiB): the client must be able to send it.
OVERSIZED = 4 * 1024 * 1024


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, at):
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def sla_id(message):
    """Field 8 (`id`) of an SLASetResponse: what a valid call must keep returning. The rest may
    change during the run (the seasonality of field 2 appears when the slow loop stores it)."""
    at = 0
    while at < len(message):
        tag, at = read_varint(message, at)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, at = read_varint(message, at)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = read_varint(message, at)
            if field == 8:
                return message[at : at + length].decode()
            at += length
        else:
            raise ValueError(f"wire type {wire} in a server message")
    return None


def ids(messages):
    return sorted(sla_id(m) for m in messages)


def unknown_fields(rng):
    """A well-formed protobuf message of unknown fields (numbers 1-1000, every wire type)."""
    out = bytearray()
    for _ in range(rng.randint(1, 20)):
        field = rng.randint(1, 1000)
        wire = rng.choice([0, 1, 2, 5])
        out += varint(field << 3 | wire)
        if wire == 0:
            out += varint(rng.getrandbits(64))
        elif wire == 1:
            out += rng.randbytes(8)
        elif wire == 2:
            payload = rng.randbytes(rng.randint(0, 256))
            out += varint(len(payload)) + payload
        else:
            out += rng.randbytes(4)
    return bytes(out)


def identity(data):
    return data


def call(channel, method, request, *, metadata=None, timeout=10.0, cancel_after_first=False):
    """(status code, details, messages) of one server-streaming call with raw bytes."""
    stub = channel.unary_stream(method, request_serializer=identity, response_deserializer=identity)
    messages = []
    stream = stub(request, metadata=metadata, timeout=timeout)
    try:
        for message in stream:
            messages.append(message)
            if cancel_after_first:
                stream.cancel()
                return grpc.StatusCode.CANCELLED, "cancelled by the client", messages
        return grpc.StatusCode.OK, "", messages
    except grpc.RpcError as error:
        return error.code(), error.details() or "", messages


def allowed(kind, code, details):
    S = grpc.StatusCode
    if kind == "random-bytes":
        return (
            code == S.OK
            or (code == S.INTERNAL and "decode" in details.lower())
            or (code == S.OUT_OF_RANGE and "too large" in details.lower())
        )
    if kind in ("valid-unknown", "metadata"):
        return code == S.OK
    if kind == "oversized":
        return code in (S.RESOURCE_EXHAUSTED, S.OUT_OF_RANGE)
    if kind == "unknown-method":
        return code == S.UNIMPLEMENTED
    if kind == "deadline":
        return code in (S.OK, S.DEADLINE_EXCEEDED) or (code == S.CANCELLED and "timeout" in details.lower())
    if kind == "cancel":
        return code in (S.OK, S.CANCELLED)
    raise ValueError(kind)


def case(rng, kind):
    """(method, request bytes, call options) of one case of `kind`."""
    if kind == "random-bytes":
        size = rng.choice([1, 2, 3, 8, 64, 1024, rng.randint(0, 65536)])
        return METHOD, rng.randbytes(size), {}
    if kind == "valid-unknown":
        return METHOD, unknown_fields(rng), {}
    if kind == "oversized":
        return METHOD, b"\x0a" + varint(OVERSIZED) + bytes(OVERSIZED), {}
    if kind == "unknown-method":
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") for _ in range(rng.randint(1, 40)))
        service = rng.choice(["sla.SlaService", "sla.Other", "grpc.health.v1.Health", "x"])
        if service == "sla.SlaService" and name == "GetSLASet":
            name += "X"
        return f"/{service}/{name}", b"", {}
    if kind == "metadata":
        printable = "".join(chr(c) for c in range(0x20, 0x7F))
        metadata = []
        for _ in range(rng.randint(1, 8)):
            key = "x-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_.") for _ in range(rng.randint(1, 30)))
            value = "".join(rng.choice(printable) for _ in range(rng.randint(0, 400))).strip()
            metadata.append((key, value))
        return METHOD, b"", {"metadata": metadata}
    if kind == "deadline":
        return METHOD, b"", {"timeout": rng.randint(1, 50) / 1000}
    if kind == "cancel":
        return METHOD, b"", {"cancel_after_first": True}
    raise ValueError(kind)


KINDS = ["random-bytes", "valid-unknown", "oversized", "unknown-method", "metadata", "deadline", "cancel"]
# Most cases are request bytes; an oversized request costs 4 MiB, so few of them.
WEIGHTS = [40, 20, 1, 10, 15, 7, 7]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT of the sla-manager's gRPC listener")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--out", required=True, help="file for the per-class table")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    options = [("grpc.max_send_message_length", 2 * OVERSIZED)]
    channel = grpc.insecure_channel(args.address, options=options)
    grpc.channel_ready_future(channel).result(timeout=30)

    code, details, baseline = call(channel, METHOD, b"")
    if code != grpc.StatusCode.OK or not baseline or None in ids(baseline):
        sys.exit(f"a valid GetSLASet answered {code.name} with {len(baseline)} messages ({details}): is the SLA set loaded?")

    counts = collections.defaultdict(collections.Counter)
    failures = []
    started = time.monotonic()
    for n in range(args.cases):
        kind = rng.choices(KINDS, WEIGHTS)[0]
        method, request, opts = case(rng, kind)
        code, details, _ = call(channel, method, request, **opts)
        counts[kind][code.name] += 1
        if not allowed(kind, code, details):
            failures.append(f"case {n} ({kind}, {len(request)} bytes, {method}): {code.name} {details[:200]!r}")
        if n % 500 == 499:
            code, details, messages = call(channel, METHOD, b"")
            if code != grpc.StatusCode.OK or ids(messages) != ids(baseline):
                failures.append(f"after case {n}: a valid call answered {code.name} with ids {ids(messages)}, {ids(baseline)} before ({details[:200]!r})")

    code, details, messages = call(channel, METHOD, b"")
    if code != grpc.StatusCode.OK or ids(messages) != ids(baseline):
        failures.append(f"at the end: a valid call answered {code.name} with ids {ids(messages)}, {ids(baseline)} before")

    total = sum(sum(c.values()) for c in counts.values())
    with open(args.out, "w") as out:
        out.write(f"gRPC cases: {total} run, {len(failures)} failed ({time.monotonic() - started:.0f} s, seed {args.seed})\n")
        for kind in KINDS:
            answers = ", ".join(f"{name} {count}" for name, count in sorted(counts[kind].items()))
            out.write(f"  {kind:15} {sum(counts[kind].values()):6}  {answers}\n")
        for failure in failures[:50]:
            out.write(f"FAILURE: {failure}\n")
    sys.stdout.write(open(args.out).read())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
