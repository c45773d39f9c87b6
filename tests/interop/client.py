"""An independent client: Python grpcio stubs generated from proto/ and a pika consumer.

Run by tests/interop.rs against a live gateway and broker vhost. It checks what a new user
of another language would rely on: the proto compiles with the reference protoc, Submit and
GetTicket work, health answers SERVING, and the department message carries the documented
properties and a body that decodes as minhu.v1.Dispatch. Exits non-zero with a reason.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def generate(proto_root: str, out: str, protos=("request.proto", "dispatch.proto", "supervision.proto", "gateway.proto")) -> None:
    """Python code for minhu/v1/<protos> in `out`, by the reference protoc (grpcio-tools)."""
    import grpc_tools
    from grpc_tools import protoc

    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = [os.path.join("minhu", "v1", f) for f in protos]
    args = ["protoc", f"-I{proto_root}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *files]
    cwd = os.getcwd()
    os.chdir(proto_root)
    try:
        if protoc.main(args) != 0:
            sys.exit("protoc failed on proto/")
    finally:
        os.chdir(cwd)


def get_one(conn, ch, queue: str, timeout: float = 20):
    """Takes one message off `queue` (not acked: auto_ack is off), waiting up to `timeout`
    seconds. Returns (channel, method, properties, body); method is None when nothing came.

    The gateway declares its queues when its relay and update consumer connect, which may be
    after it answers gRPC: a department consumer starting first sees 404 and retries."""
    import pika

    deadline = time.time() + timeout
    while True:
        try:
            method, props, body = ch.basic_get(queue, auto_ack=False)
        except pika.exceptions.ChannelClosedByBroker as e:
            if e.reply_code != 404:
                raise
            ch = conn.channel()
            method = None
        if method or time.time() >= deadline:
            return ch, method, (props if method else None), (body if method else None)
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--amqp", required=True)
    args = ap.parse_args()

    out = tempfile.mkdtemp(prefix="minhu-py-")
    generate(args.proto, out)
    sys.path.insert(0, out)

    import grpc
    import pika
    from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: F401  (optional package)
    from minhu.v1 import dispatch_pb2, gateway_pb2, gateway_pb2_grpc, request_pb2

    channel = grpc.insecure_channel(args.grpc)
    stub = gateway_pb2_grpc.GatewayStub(channel)
    req = request_pb2.Request(
        channel=request_pb2.CHANNEL_MAYOR_MAILBOX,
        source_system="py-interop",
        source_id=f"py-{os.getpid()}-{time.time_ns()}",
        request_type=request_pb2.REQUEST_TYPE_COMPLAINT,
        category="labor.wage",
        description="某建筑公司拖欠农民工工资三个月",
        location=request_pb2.Location(district_code="610113", address="雁塔区"),
        reporter=request_pb2.Reporter(name="赵六", phone="13700001111"),
    )
    req.reported_at.GetCurrentTime()
    resp = stub.Submit(gateway_pb2.SubmitRequest(request=req), timeout=10)
    assert resp.disposition == gateway_pb2.DISPOSITION_NEW_CASE, resp
    assert resp.department_id == "hr-social-security", resp
    again = stub.Submit(gateway_pb2.SubmitRequest(request=req), timeout=10)
    assert again.disposition == gateway_pb2.DISPOSITION_REPLAY and again.ticket_id == resp.ticket_id, again

    try:
        stub.Submit(gateway_pb2.SubmitRequest(request=request_pb2.Request(channel=request_pb2.CHANNEL_WECHAT)), timeout=10)
        sys.exit("an invalid request was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e

    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service="minhu.v1.Gateway"), timeout=10)
    assert status.status == health_pb2.HealthCheckResponse.SERVING, status

    conn = pika.BlockingConnection(pika.URLParameters(args.amqp))
    ch, method, props, body = get_one(conn, conn.channel(), "minhu.dept.hr-social-security")
    if method is None:
        sys.exit("no message on minhu.dept.hr-social-security")
    ch.basic_ack(method.delivery_tag)
    d = dispatch_pb2.Dispatch()
    d.ParseFromString(body)
    assert props.content_type == "application/x-protobuf", props
    assert props.type == "minhu.v1.Dispatch", props
    assert props.delivery_mode == 2, props
    assert props.message_id == d.dispatch_id, (props.message_id, d.dispatch_id)
    assert props.timestamp, props
    assert props.headers["x-minhu-case-id"] == resp.case_id, props.headers
    assert props.headers["x-minhu-channel"] == "CHANNEL_MAYOR_MAILBOX", props.headers
    assert props.headers["x-minhu-level"] == "C", props.headers
    assert d.kind == dispatch_pb2.DISPATCH_KIND_NEW_CASE
    assert d.tickets[0].ticket_id == resp.ticket_id
    assert d.tickets[0].request.description == req.description
    conn.close()

    t = stub.GetTicket(gateway_pb2.GetTicketRequest(ticket_id=resp.ticket_id), timeout=10)
    assert t.case_id == resp.case_id, t
    print("interop ok", resp.ticket_id)


if __name__ == "__main__":
    main()
