"""A mail server for the e-mail notifier's tests: the real aiosmtpd SMTP server (Controller),
not a mock, so the gateway's SMTP client meets a server that parses its commands the way
mail servers do.

Run by tests/notify_email.rs. Listens on 127.0.0.1 on a port the system picks and prints
`port <n>` on stdout once it answers. Every message it accepts is written as one JSON line
`{"mail_from": ..., "rcpt_tos": [...], "data": <the raw message>}` to --out (or stdout),
flushed before the server answers 250, so a client told "accepted" finds the line there.
Stops when its stdin closes (the test ended, whichever way) or on SIGTERM.

Options:
  --auth USER:PASSWORD   require AUTH (PLAIN or LOGIN) with these credentials
  --starttls CERT KEY    offer STARTTLS with this PEM certificate and key, and require it
  --tls CERT KEY         implicit TLS (SMTPS) from the first byte
  --reject ADDRESS       answer RCPT TO ADDRESS with 550 (repeatable)
  --full ADDRESS         answer RCPT TO ADDRESS with 552, mailbox full (repeatable)
  --defer N              answer the first N messages with 451 at the end of DATA
"""
import argparse
import json
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    """The handler: refuses what it was told to, records everything else."""

    def __init__(self, out, reject, full, defer):
        self.out = out
        self.reject = {a.lower() for a in reject}
        self.full = {a.lower() for a in full}
        self.defer = defer
        self.lock = threading.Lock()
        self.accepted = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.full:
            return f"552 5.2.2 <{address}>: Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.defer > 0:
                self.defer -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self.accepted += 1
            n = self.accepted
            line = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
            }
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.out.flush()
        return f"250 2.0.0 Ok: queued as SINK{n}"


class EphemeralController(Controller):
    """A Controller on port 0: learns the port the system chose before aiosmtpd's own
    readiness check connects to it."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--auth")
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--full", action="append", default=[])
    ap.add_argument("--defer", type=int, default=0)
    ap.add_argument("--out")
    # tests/common/python.rs passes --proto to every script; this one has no use for it.
    ap.add_argument("--proto")
    args = ap.parse_args()

    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout
    handler = Sink(out, args.reject, args.full, args.defer)
    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            # handled=False: aiosmtpd answers 535 itself when the login is wrong.
            return AuthResult(success=ok, handled=False)

        kwargs.update(
            authenticator=authenticate,
            auth_required=True,
            # Implicit TLS is TLS too, but aiosmtpd only counts STARTTLS as such.
            auth_require_tls=not args.tls,
        )
    if args.starttls:
        kwargs.update(tls_context=server_context(*args.starttls), require_starttls=True)
    ssl_context = server_context(*args.tls) if args.tls else None

    controller = EphemeralController(
        handler, hostname="127.0.0.1", port=0, ssl_context=ssl_context, **kwargs
    )
    controller.start()
    print(f"port {controller.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
