"""A stand-in for the WeChat API (api.weixin.qq.com), for the notifier tests. Python stdlib only.

It enforces what WeChat documents, so a sender that passes here sends what WeChat takes:

- POST /cgi-bin/stable_token  {"grant_type":"client_credential","appid","secret","force_refresh"?}
  -> {"access_token","expires_in"}; 40013 unknown appid, 40125 wrong secret, 40002 bad grant_type.
  Normal mode hands out the app's current token while it is valid; force_refresh replaces it.
- POST /cgi-bin/message/custom/send?access_token=T     {"touser","msgtype":"text","text":{"content"}}
- POST /cgi-bin/message/template/send?access_token=T   {"touser","template_id","url"?,"client_msg_id"?,"data"}
- POST /cgi-bin/message/subscribe/send?access_token=T  {"touser","template_id","page"?,"miniprogram_state"?,"lang"?,"data"}
  data = {key: {"value": string}}; subscribe values are checked against their type's limits
  (thing <= 20 characters, character_string <= 32 ASCII, phrase <= 5, ...): 47003 otherwise.
  Errors as WeChat gives them: 43002 not POST, 41001 no access_token, 40001 unknown token,
  42001 expired token, 47001 data format error (bad JSON, a missing, unknown or mistyped key),
  40008 msgtype not text, 45002 text over 2048 bytes, 40037 unknown template (with --template),
  40003 invalid openid, 45015 closed 48-hour window, 43004 not following, 43101 refused
  subscribe messages, -1 system busy (every Nth send, --busy-every N). A template message with
  the same touser and client_msg_id as an accepted one is answered with that one's msgid and not
  delivered again (WeChat's de-duplication).

Control (not WeChat's; for tests):
- GET  /_stand_in/messages  -> {"messages": [{"kind": "custom"|"template"|"subscribe", "app_id",
       "touser", "msgid", "text"  |  "template_id", "data": {key: value}, "url"/"page", ...}]}
- GET  /_stand_in/stats     -> {"token_fetches", "forced_refreshes", "send_calls", "answers": {errcode: n}}
- POST /_stand_in/expire_tokens   every token answers 42001 from now on
- POST /_stand_in/reject_tokens   every token answers 40001 from now on, yet stable_token in
       normal mode keeps handing it out until a force_refresh (WeChat after a token leak reset)
- POST /_stand_in/config    {"closed": [openid], "unsubscribed": [...], "refused": [...],
       "invalid": [...], "busy_every": N, "expires_in": S}: replaces the keys given
- POST /_stand_in/reset     forgets accepted messages and counters

Command line: --port (0 picks one), --app APPID:SECRET (repeatable), --template ID (repeatable;
none: any id is accepted), --closed/--unsubscribed/--refused/--invalid OPENID (repeatable),
--busy-every N, --expires-in S, --parent-watch (exit when stdin closes: the test that started
it is gone). Prints the port alone on the first line of stdout once it listens.
"""
import argparse
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SEND_KINDS = {
    "/cgi-bin/message/custom/send": "custom",
    "/cgi-bin/message/template/send": "template",
    "/cgi-bin/message/subscribe/send": "subscribe",
}
ERRMSG = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    45002: "content size out of limit",
    45015: "response out of time limit or subscription is canceled",
    47001: "data format error",
    47003: "argument invalid!",
}


class Refused(Exception):
    """An error answer: WeChat's errcode and, for 47001/47003, the key at fault."""

    def __init__(self, errcode, hint=""):
        super().__init__(errcode)
        self.errcode = errcode
        self.hint = hint


def is_str(v):
    return isinstance(v, str)


def check_keys(obj, required, optional, where=""):
    """The object has every required key, no other than the optional ones (47001 otherwise)."""
    if not isinstance(obj, dict):
        raise Refused(47001, where or "body")
    for k in required:
        if k not in obj:
            raise Refused(47001, f"missing {where}{k}")
    for k in obj:
        if k not in required and k not in optional:
            raise Refused(47001, f"unknown key {where}{k}")


def subscribe_value_ok(key, value):
    """WeChat's documented limits of a subscribe message field, by the key's type prefix."""
    kind = key.rstrip("0123456789")
    n = len(value)
    if n == 0:
        return False
    ascii_only = all(ord(c) < 128 for c in value)
    if kind == "thing":
        return n <= 20
    if kind == "number":
        return n <= 32 and all(c.isdigit() or c == "." for c in value)
    if kind == "letter":
        return n <= 32 and value.isascii() and value.isalpha()
    if kind == "symbol":
        return n <= 5
    if kind == "character_string":
        return n <= 32 and ascii_only
    if kind == "phrase":
        return n <= 5 and not ascii_only
    if kind == "name":
        return n <= (20 if ascii_only else 10)
    if kind == "phone_number":
        return n <= 17 and ascii_only
    if kind == "car_number":
        return n <= 8
    return True  # time, date, amount and the rest: not checked here


class State:
    """Everything the stand-in knows; one lock, since the server is threaded."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.apps = dict(a.split(":", 1) for a in args.app)
        self.templates = set(args.template)
        self.closed = set(args.closed)
        self.unsubscribed = set(args.unsubscribed)
        self.refused = set(args.refused)
        self.invalid = set(args.invalid)
        self.busy_every = args.busy_every
        self.expires_in = args.expires_in
        self.current = {}  # appid -> token
        self.tokens = {}  # token -> {"app_id", "expires_at", "revoked"}
        self.reset()

    def reset(self):
        self.messages = []
        self.dedupe = {}  # (touser, client_msg_id) -> msgid
        self.stats = {"token_fetches": 0, "forced_refreshes": 0, "send_calls": 0, "answers": {}}
        self.next_msgid = 1000

    def count(self, errcode):
        a = self.stats["answers"]
        a[str(errcode)] = a.get(str(errcode), 0) + 1

    def issue(self, body):
        check_keys(body, ("grant_type", "appid", "secret"), ("force_refresh",))
        if not all(is_str(body[k]) for k in ("grant_type", "appid", "secret")):
            raise Refused(47001, "grant_type, appid and secret are strings")
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise Refused(47001, "force_refresh is a boolean")
        if body["grant_type"] != "client_credential":
            raise Refused(40002)
        app_id = body["appid"]
        if app_id not in self.apps:
            raise Refused(40013)
        if body["secret"] != self.apps[app_id]:
            raise Refused(40125)
        self.stats["token_fetches"] += 1
        now = time.monotonic()
        current = self.tokens.get(self.current.get(app_id, ""))
        if force:
            self.stats["forced_refreshes"] += 1
            if current:
                current["revoked"] = True
        elif current and not current["revoked"] and current["expires_at"] > now:
            left = int(current["expires_at"] - now)
            return {"access_token": self.current[app_id], "expires_in": left}
        token = f"TOKEN_{app_id}_{secrets.token_hex(8)}"
        self.tokens[token] = {"app_id": app_id, "expires_at": now + self.expires_in, "revoked": False,
                              "rejected": False}
        self.current[app_id] = token
        return {"access_token": token, "expires_in": self.expires_in}

    def app_of(self, query):
        tokens = parse_qs(query).get("access_token", [])
        if not tokens or not tokens[0]:
            raise Refused(41001)
        t = self.tokens.get(tokens[0])
        if t is None or t["revoked"] or t["rejected"]:
            raise Refused(40001)
        if t["expires_at"] <= time.monotonic():
            raise Refused(42001)
        return t["app_id"]

    def accept(self, kind, app_id, body):
        """Checks a send's body; returns the record of the message it delivers."""
        if kind == "custom":
            check_keys(body, ("touser", "msgtype", "text"), ())
            if not is_str(body["touser"]) or not is_str(body["msgtype"]):
                raise Refused(47001, "touser and msgtype are strings")
            if body["msgtype"] != "text":
                raise Refused(40008)
            check_keys(body["text"], ("content",), (), "text.")
            content = body["text"]["content"]
            if not is_str(content) or not content:
                raise Refused(47001, "text.content is a non-empty string")
            if len(content.encode("utf-8")) > 2048:
                raise Refused(45002)
            record = {"text": content}
        else:
            optional = ("url", "client_msg_id", "miniprogram") if kind == "template" else (
                "page", "miniprogram_state", "lang")
            check_keys(body, ("touser", "template_id", "data"), optional)
            for k in ("touser", "template_id") + optional:
                if k in body and k != "miniprogram" and not is_str(body[k]):
                    raise Refused(47001, f"{k} is a string")
            if self.templates and body["template_id"] not in self.templates:
                raise Refused(40037)
            if not isinstance(body["data"], dict):
                raise Refused(47001, "data is an object")
            data = {}
            for key, field in body["data"].items():
                check_keys(field, ("value",), ("color",) if kind == "template" else (), f"data.{key}.")
                if not is_str(field["value"]):
                    raise Refused(47001, f"data.{key}.value is a string")
                if kind == "subscribe" and not subscribe_value_ok(key, field["value"]):
                    raise Refused(47003, f"data.{key}.value invalid")
                data[key] = field["value"]
            state = body.get("miniprogram_state", "formal")
            if kind == "subscribe" and state not in ("developer", "trial", "formal"):
                raise Refused(47003, "miniprogram_state invalid")
            record = {"template_id": body["template_id"], "data": data}
            for k in ("url", "page", "client_msg_id", "miniprogram_state"):
                if k in body:
                    record[k] = body[k]
        touser = body["touser"]
        if not touser or touser in self.invalid:
            raise Refused(40003)
        if kind == "custom" and touser in self.closed:
            raise Refused(45015)
        if kind in ("custom", "template") and touser in self.unsubscribed:
            raise Refused(43004)
        if kind == "subscribe" and touser in self.refused:
            raise Refused(43101)
        record.update({"kind": kind, "app_id": app_id, "touser": touser})
        return record

    def send(self, kind, query, raw):
        app_id = self.app_of(query)
        self.stats["send_calls"] += 1
        if self.busy_every and self.stats["send_calls"] % self.busy_every == 0:
            raise Refused(-1)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Refused(47001, "body is not JSON")
        record = self.accept(kind, app_id, body)
        key = (record["touser"], record.get("client_msg_id"))
        if kind == "template" and key[1] and key in self.dedupe:
            return {"errcode": 0, "errmsg": "ok", "msgid": self.dedupe[key]}
        self.next_msgid += 1
        record["msgid"] = self.next_msgid
        self.messages.append(record)
        if kind == "template" and key[1]:
            self.dedupe[key] = self.next_msgid
        answer = {"errcode": 0, "errmsg": "ok"}
        if kind != "custom":
            answer["msgid"] = self.next_msgid
        return answer

    def control(self, path, raw):
        if path == "/_stand_in/expire_tokens":
            for t in self.tokens.values():
                t["expires_at"] = 0
        elif path == "/_stand_in/reject_tokens":
            for t in self.tokens.values():
                t["rejected"] = True
        elif path == "/_stand_in/reset":
            self.reset()
        elif path == "/_stand_in/config":
            cfg = json.loads(raw.decode("utf-8") or "{}")
            for k in ("closed", "unsubscribed", "refused", "invalid"):
                if k in cfg:
                    setattr(self, k, set(cfg[k]))
            if "busy_every" in cfg:
                self.busy_every = int(cfg["busy_every"])
            if "expires_in" in cfg:
                self.expires_in = int(cfg["expires_in"])
        else:
            return None
        return {"ok": True}


class Handler(BaseHTTPRequestHandler):
    state = None  # set in main
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("wechat_api: " + fmt % args + "\n")

    def answer(self, obj, status=200):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, r):
        msg = ERRMSG.get(r.errcode, "error")
        if r.hint:
            msg = f"{msg} hint: [{r.hint}]"
        self.answer({"errcode": r.errcode, "errmsg": f"{msg} rid: stand-in"})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        url = urlsplit(self.path)
        s = self.state
        with s.lock:
            if url.path == "/_stand_in/messages":
                return self.answer({"messages": s.messages})
            if url.path == "/_stand_in/stats":
                return self.answer(s.stats)
            if url.path in SEND_KINDS or url.path == "/cgi-bin/stable_token":
                s.count(43002)
                return self.refuse(Refused(43002))
        self.answer({"errcode": 404, "errmsg": "no such API"}, status=404)

    def do_POST(self):
        url = urlsplit(self.path)
        raw = self.read_body()
        s = self.state
        with s.lock:
            try:
                if url.path == "/cgi-bin/stable_token":
                    try:
                        body = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        raise Refused(47001, "body is not JSON")
                    return self.answer(s.issue(body))
                if url.path in SEND_KINDS:
                    answer = s.send(SEND_KINDS[url.path], url.query, raw)
                    s.count(0)
                    return self.answer(answer)
                done = s.control(url.path, raw)
            except Refused as r:
                s.count(r.errcode)
                return self.refuse(r)
        if done is None:
            self.answer({"errcode": 404, "errmsg": "no such API"}, status=404)
        else:
            self.answer(done)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--app", action="append", default=[], help="APPID:SECRET")
    p.add_argument("--template", action="append", default=[])
    p.add_argument("--closed", action="append", default=[])
    p.add_argument("--unsubscribed", action="append", default=[])
    p.add_argument("--refused", action="append", default=[])
    p.add_argument("--invalid", action="append", default=[])
    p.add_argument("--busy-every", type=int, default=0)
    p.add_argument("--expires-in", type=int, default=7200)
    p.add_argument("--parent-watch", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--proto", help="ignored (tests/common/python.rs passes it to every script)")
    args = p.parse_args()
    for a in args.app:
        if ":" not in a:
            p.error(f"--app {a!r}: expected APPID:SECRET")
    Handler.state = State(args)
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    if args.parent_watch:
        def watch():
            sys.stdin.read()
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
