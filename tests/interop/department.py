"""A department's own case system, written with pika and code protoc generated from proto/.

Run by tests/handling_interop.rs against a live gateway and broker vhost. It does what a
department that speaks only AMQP would: consume its queue minhu.dept.<id> (acking a dispatch
only after its work is done), and answer each case by publishing protobuf minhu.v1.CaseUpdate
messages to minhu.updates (content_type application/x-protobuf, type minhu.v1.CaseUpdate,
message_id = update_id), reading each UpdateOutcome from minhu.dept.<id>.outcomes and basing
the next update on the case_version it names. One case is signed for, progressed and
completed; another is signed for and returned (退单).

Prints every outcome as `outcome <hex of the protobuf>` for the Rust test to decode and check,
then `department ok`. Exits non-zero with a reason when the gateway answers other than the
contract says.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import generate, get_one  # noqa: E402  (tests/interop/client.py)

PROTOS = ("request.proto", "dispatch.proto", "supervision.proto", "handling.proto")


class Department:
    """One department's AMQP side: its dispatch queue, minhu.updates and its outcome queue."""

    def __init__(self, conn, department: str, pb, dispatch_pb):
        self.conn = conn
        self.department = department
        self.pb = pb
        self.dispatch_pb = dispatch_pb
        self.publisher = conn.channel()
        self.publisher.confirm_delivery()
        self.outcomes = conn.channel()
        self.serial = 0

    def send(self, case_id: str, version: int, action: str, **fields):
        """Publishes one update of `case_id` based on `version` and returns its outcome."""
        import pika

        self.serial += 1
        update_id = f"py-{self.department}-{os.getpid()}-{self.serial}"
        header = self.pb.UpdateHeader(
            update_id=update_id,
            case_id=case_id,
            department_id=self.department,
            case_version=version,
            operator_id="py-staff-7",
        )
        request = {
            "sign_for": self.pb.SignForRequest,
            "report_progress": self.pb.ReportProgressRequest,
            "return": self.pb.ReturnRequest,
            "complete": self.pb.CompleteRequest,
        }[action](header=header, **fields)
        # `return` is a Python keyword: the oneof field is set by name.
        body = self.pb.CaseUpdate(**{action: request}).SerializeToString()
        props = pika.BasicProperties(
            content_type="application/x-protobuf",
            type="minhu.v1.CaseUpdate",
            message_id=update_id,
            delivery_mode=2,
        )
        # With confirms on, an unroutable (mandatory) or nacked publish raises.
        self.publisher.basic_publish("", "minhu.updates", body, props, mandatory=True)
        return self.outcome(update_id)

    def outcome(self, update_id: str):
        queue = f"minhu.dept.{self.department}.outcomes"
        self.outcomes, method, props, body = get_one(self.conn, self.outcomes, queue)
        if method is None:
            sys.exit(f"no outcome of {update_id} on {queue}")
        o = self.pb.UpdateOutcome()
        o.ParseFromString(body)
        check(props.content_type == "application/x-protobuf", props)
        check(props.type == "minhu.v1.UpdateOutcome", props)
        check(props.message_id == f"outcome-{self.department}-{update_id}", props)
        check(o.update_id == update_id, (o.update_id, update_id))
        self.outcomes.basic_ack(method.delivery_tag)
        print("outcome", body.hex(), flush=True)
        return o

    def dispatches(self, count: int, timeout: float = 30):
        """Yields (channel, delivery tag, minhu.v1.Dispatch) for `count` dispatches; the caller
        acks each once its work is done."""
        import pika

        queue = f"minhu.dept.{self.department}"
        deadline = time.time() + timeout
        ch = self.conn.channel()
        while True:
            try:
                ch.queue_declare(queue, passive=True)
                break
            except pika.exceptions.ChannelClosedByBroker as e:
                if e.reply_code != 404 or time.time() >= deadline:
                    raise
                ch = self.conn.channel()
                time.sleep(0.1)
        ch.basic_qos(prefetch_count=1)
        got = 0
        for method, props, body in ch.consume(queue, inactivity_timeout=1):
            if method is None:
                if time.time() >= deadline:
                    sys.exit(f"only {got} of {count} dispatches on {queue}")
                continue
            check(props.content_type == "application/x-protobuf", props)
            check(props.type == "minhu.v1.Dispatch", props)
            d = self.dispatch_pb.Dispatch()
            d.ParseFromString(body)
            check(props.message_id == d.dispatch_id, (props.message_id, d.dispatch_id))
            yield ch, method.delivery_tag, d
            got += 1
            if got == count:
                break
        ch.cancel()


def check(ok: bool, what) -> None:
    if not ok:
        sys.exit(f"unexpected: {what}")


def expect(o, status: str, version: int) -> None:
    """The outcome says the update was applied, leaving the case in `status` at `version`."""
    from minhu.v1 import dispatch_pb2

    got = dispatch_pb2.CaseStatus.Name(o.status)
    check(o.applied, f"{o.update_id} refused: code {o.code}: {o.message}")
    check((got, o.case_version) == (status, version), (got, o.case_version, status, version))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--amqp", required=True)
    ap.add_argument("--department", required=True)
    ap.add_argument("--complete", required=True, help="the case to sign for, progress and complete")
    ap.add_argument("--give-back", required=True, help="the case to sign for and return")
    args = ap.parse_args()

    out = tempfile.mkdtemp(prefix="minhu-py-dept-")
    generate(args.proto, out, PROTOS)
    sys.path.insert(0, out)

    import pika
    from minhu.v1 import dispatch_pb2, handling_pb2

    conn = pika.BlockingConnection(pika.URLParameters(args.amqp))
    dept = Department(conn, args.department, handling_pb2, dispatch_pb2)
    todo = {args.complete, args.give_back}
    for ch, tag, d in dept.dispatches(len(todo)):
        case, version = d.case.case_id, d.case.version
        check(d.kind == dispatch_pb2.DISPATCH_KIND_NEW_CASE, d.kind)
        check(d.department_id == args.department and case in todo, (d.department_id, case))
        todo.discard(case)
        o = dept.send(case, version, "sign_for", note="已签收")
        expect(o, "CASE_STATUS_SIGNED", version + 1)
        if case == args.complete:
            o = dept.send(case, o.case_version, "report_progress", note="已安排施工队")
            expect(o, "CASE_STATUS_IN_PROGRESS", version + 2)
            o = dept.send(
                case,
                o.case_version,
                "complete",
                result="路面已修复",
                handling_type=handling_pb2.HANDLING_TYPE_PROMISED,
            )
            expect(o, "CASE_STATUS_COMPLETED", version + 3)
            # Based on an old version: refused (ABORTED), and the refusal is an outcome too.
            stale = dept.send(case, version + 1, "report_progress", note="迟到的进展")
            check(not stale.applied and stale.code == 10, (stale.code, stale.message))
        else:
            o = dept.send(
                case,
                o.case_version,
                "return",
                reason=handling_pb2.RETURN_REASON_WRONG_PLACE,
                text="路灯归城管局，不属于本单位",
                suggested_department_id="urban-mgmt",
            )
            # Re-routed at once: OPEN at its next department.
            expect(o, "CASE_STATUS_OPEN", version + 2)
            check(o.holder_department_id != args.department, o.holder_department_id)
        ch.basic_ack(tag)
    conn.close()
    print("department ok", flush=True)


if __name__ == "__main__":
    main()
