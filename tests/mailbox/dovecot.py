"""A real Dovecot for the mailbox tests: Debian's dovecot (dovecot-imapd), started once per session
as a child process on 127.0.0.1 at two free ports, IMAPS on one and IMAP with STARTTLS on the
other, with a certificate signed by a CA the tests make, one user, and a Maildir.

Everything Dovecot writes (its sockets, state, log, indexes, the mail) stays in the session's
temporary directory: the configuration sets base_dir and state_dir there, so the machine's own
Dovecot (disabled by lab/install-host-packages) and its files are never touched. Messages are
delivered as a local delivery agent does it: written into tmp/, then renamed into new/.
"""

from __future__ import annotations

import dataclasses
import datetime
import grp
import itertools
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from tests.dns.bind import free_port
from tests.local_server import LocalServer

USER = "student@students.test"
# who owns the mail when the tests run as root (see _mail_settings)
ROOT_MAIL_OWNER = "nobody"
# only ever sent to 127.0.0.1; random, so that a leak is easy to find in any output
PASSWORD = f"Pw-{secrets.token_hex(8)}"


@dataclasses.dataclass
class DovecotServer(LocalServer):
    host: str
    imaps_port: int
    imap_port: int
    user: str
    password: str
    ca_file: Path
    maildir: Path
    directory: Path
    # uid and gid of Dovecot's mail processes, which must be able to change the Maildir
    owner: tuple[int, int]
    process: subprocess.Popen | None = dataclasses.field(default=None, repr=False)

    def module_args(self, **overrides) -> dict:
        """Options of lms.mail.mailbox_message_info for this server over IMAPS, CA included."""
        args = {
            "imap_host": self.host,
            "imap_port": self.imaps_port,
            "imap_tls": "imaps",
            "imap_ca_file": str(self.ca_file),
            "imap_user": self.user,
            "imap_password": self.password,
            "authserv_ids": ["mx.students.test"],
            "timeout": 5,
            "poll_interval": 0.5,
        }
        args.update(overrides)
        return args

    def deliver(self, message: EmailMessage | bytes, folder: str = "") -> Path:
        """Put a message into the Maildir (INBOX, or the folder .name) as an MDA does; the file."""
        data = message if isinstance(message, bytes) else message.as_bytes()
        box = self.maildir / (f".{folder}" if folder else "")
        # the usual Maildir name: Dovecot gives new messages their UIDs in the order of the
        # time at its start (seconds, then M microseconds), so a later delivery gets a higher UID
        seconds, micro = divmod(time.time_ns() // 1000, 1_000_000)
        name = f"{seconds}.M{micro}P{os.getpid()}Q{next(_deliveries)}.lmstest"
        tmp = box / "tmp" / name
        tmp.write_bytes(data)
        os.replace(tmp, box / "new" / name)
        return box / "new" / name

    def make_folder(self, folder: str) -> None:
        """A Maildir++ folder (.name, the name in IMAP's modified UTF-7) of the mail owner's."""
        box = self.maildir / f".{folder}"
        for path in (box, box / "new", box / "cur", box / "tmp"):
            path.mkdir(exist_ok=True)
            os.chown(path, *self.owner)

    def message_files(self, folder: str = "") -> list[Path]:
        box = self.maildir / (f".{folder}" if folder else "")
        return sorted([*(box / "new").iterdir(), *(box / "cur").iterdir()])


_deliveries = itertools.count(1)


def make_message(subject: str, authentication_results: list[str] = (), **headers: str) -> EmailMessage:
    """A message as the lab's MX stores it: trace fields on top (Return-Path, the receiver's
    Authentication-Results, Received), then the sender's fields; headers adds or replaces."""
    message = EmailMessage()
    message["Return-Path"] = "<noreply@school.test>"
    for value in authentication_results:
        message["Authentication-Results"] = value
    message["Received"] = (
        "from moodle.school.test (moodle.school.test [10.89.231.40]) by mx.students.test (Postfix) "
        "with ESMTPS id 4ABC123 for <student@students.test>; Mon, 30 Nov 2026 10:00:00 +0000 (UTC)"
    )
    message["From"] = "Moodle <noreply@school.test>"
    message["To"] = USER
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.datetime.now(datetime.UTC))
    message["Message-ID"] = make_msgid(domain="school.test")
    for name, value in headers.items():
        name = name.replace("_", "-")
        del message[name]
        message[name] = value
    message.set_content("A forum post from Moodle.\n")
    return message


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA of the tests' own and a server certificate it signs for 127.0.0.1 and localhost:
    (ca.crt, server.crt, server.key). The CA is in no system bundle, so a client that trusts
    only the system's CAs refuses the server."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=directory)
    _openssl(
        "req", "-x509", "-new", "-key", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=lms.mail test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key", cwd=directory)
    _openssl(
        "req", "-new", "-key", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=directory
    )
    (directory / "server.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
        cwd=directory,
    )  # fmt: skip
    return directory / "ca.crt", directory / "server.crt", directory / "server.key"


def _mail_owner() -> tuple[int, int]:
    if os.geteuid() == 0:
        owner = pwd.getpwnam(ROOT_MAIL_OWNER)
        return owner.pw_uid, owner.pw_gid
    return os.geteuid(), os.getegid()


def _mail_settings(directory: Path) -> str:
    """Users and the processes' identities: as root, or as the user the tests run as."""
    users = f"""
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/users
}}"""
    uid, gid = _mail_owner()
    if os.geteuid() == 0:
        # Dovecot refuses to open mail as root, and the session's temporary directory is
        # private to root: the mail processes chroot (as root) into {directory}/mail, then
        # become nobody, who owns everything inside. The auth process reads the passwd-file
        # as root.
        return f"""{users}
valid_chroot_dirs = {directory}/mail
mail_location = maildir:~/Maildir
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mail/./home
}}
service auth {{
  user = root
}}
"""
    # Not root: every process runs as this user (Dovecot's rootless set-up), none chroots.
    user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    return f"""{users}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mail/home
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _dovecot_conf(directory: Path, imap_port: int, imaps_port: int) -> str:
    return f"""
# The tests' own Dovecot: every path is inside {directory}.
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = lms-mail-test
protocols = imap
listen = 127.0.0.1
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log

ssl = yes
ssl_cert = <{directory}/server.crt
ssl_key = <{directory}/server.key
# the "none" mode logs in without TLS (over loopback only)
disable_plaintext_auth = no
auth_mechanisms = plain login

{_mail_settings(directory)}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


def _greets(host: str, port: int, ca_file: Path | None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            if ca_file is None:
                return sock.recv(64).startswith(b"* OK")
            context = ssl.create_default_context(cafile=str(ca_file))
            with context.wrap_socket(sock, server_hostname=host) as tls:
                return tls.recv(64).startswith(b"* OK")
    except OSError:
        return False


def start_dovecot(directory: Path) -> DovecotServer:
    """Dovecot on 127.0.0.1 (IMAP with STARTTLS and IMAPS, each on a free port), answering;
    its files go to directory. FileNotFoundError when dovecot-imapd is not installed."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(dovecot) or not os.path.exists("/usr/lib/dovecot/imap"):
        raise FileNotFoundError(
            "the mailbox tests need Debian's dovecot-imapd: lab/install-host-packages, "
            "or apt-get install dovecot-imapd"
        )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, _, _ = make_certificates(directory)
    owner = _mail_owner()
    home = directory / "mail" / "home"
    maildir = home / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for path in (directory / "mail", home, maildir, *(maildir / sub for sub in ("new", "cur", "tmp"))):
        os.chown(path, *owner)
    (directory / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    imap_port, imaps_port = free_port(), free_port()
    while imaps_port == imap_port:
        imaps_port = free_port()
    conf = directory / "dovecot.conf"
    conf.write_text(_dovecot_conf(directory, imap_port, imaps_port))
    log = directory / "dovecot.log"
    with (directory / "dovecot.out").open("w") as out:
        process = subprocess.Popen([dovecot, "-F", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    server = DovecotServer(
        "127.0.0.1", imaps_port, imap_port, USER, PASSWORD, ca_file, maildir, directory, owner, process
    )
    deadline = time.monotonic() + 20
    while not (_greets(server.host, imap_port, None) and _greets(server.host, imaps_port, ca_file)):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            output = (directory / "dovecot.out").read_text()
            output += log.read_text() if log.exists() else ""
            raise RuntimeError(f"dovecot did not start (exit {process.returncode}):\n{output[-3000:]}")
        time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    try:
        server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    with server:
        yield server


@pytest.fixture
def own_dovecot(tmp_path: Path) -> Iterator[DovecotServer]:
    """A Dovecot for one test, for tests whose logins fail: after a failed login Dovecot holds
    back the next logins from the same address for seconds (its auth penalty), which would slow
    down every test after it on the shared server."""
    with start_dovecot(tmp_path / "dovecot") as server:
        yield server


@pytest.fixture
def marker() -> str:
    """A subject marker no other test's message carries."""
    return f"lms-verify-{uuid.uuid4().hex[:12]}"
