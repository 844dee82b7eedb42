#!/usr/bin/python3
"""A real SMTP server for the Alerting tests: aiosmtpd with STARTTLS or implicit TLS and AUTH.

Run by Debian's /usr/bin/python3 (package python3-aiosmtpd). Writes every
accepted message to a maildir and one line per AUTH attempt to auth.log
(mechanism and login, never the password). Prints "READY" on stdout when it
accepts connections and stops on SIGTERM.
"""
import argparse
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
import mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class InjectingSMTP(SMTP):
    """A man in the middle's trick: a forged reply sent with the 220 to STARTTLS, before TLS begins."""

    async def push(self, status):
        if isinstance(status, str) and status.startswith("220") and "TLS" in status:
            status = status + "\r\n250-injected.example\r\n250 AUTH PLAIN"
        await super().push(status)


class InjectingController(Controller):
    def factory(self):
        return InjectingSMTP(self.handler, **self.SMTP_kwargs)


class RawMaildir:
    """Stores each message exactly as received (aiosmtpd's Mailbox handler re-serializes headers)."""

    def __init__(self, path):
        self.box = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server, session, envelope):
        self.box.add(envelope.original_content)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--mode", choices=["starttls", "tls", "plain"], default="starttls")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    parser.add_argument("--auth-log")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--inject-after-starttls", action="store_true")
    args = parser.parse_args()

    password = None
    if args.password_file:
        with open(args.password_file) as handle:
            password = handle.read().strip()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == password)
        if args.auth_log:
            with open(args.auth_log, "a") as log:
                log.write(f"{mechanism} {auth_data.login.decode() if isinstance(auth_data, LoginPassword) else '?'} {'ok' if ok else 'refused'}\n")
        if ok:
            return AuthResult(success=True)
        # An explicit reply: aiosmtpd 1.4 otherwise sends none for a refused authenticator.
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    options = dict(hostname=args.listen, port=args.port)
    if args.user:
        options.update(authenticator=authenticate, auth_required=True)
        if args.mode != "starttls":
            # aiosmtpd counts only STARTTLS as TLS for AUTH; implicit TLS is encrypted too.
            options.update(auth_require_tls=False)
    if args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif args.mode == "tls":
        options.update(ssl_context=context)

    controller_type = InjectingController if args.inject_after_starttls else Controller
    controller = controller_type(RawMaildir(args.maildir), **options)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("READY", flush=True)
    # A timed wait: an untimed Event.wait() would not let the SIGTERM handler run.
    while not stop.wait(0.1):
        pass
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
