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
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


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
        return AuthResult(success=ok)

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    options = dict(hostname="127.0.0.1", port=args.port)
    if args.user:
        options.update(authenticator=authenticate, auth_required=True)
        if args.mode == "plain":
            options.update(auth_require_tls=False)
    if args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif args.mode == "tls":
        options.update(ssl_context=context)

    controller = Controller(Mailbox(args.maildir), **options)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("READY", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
