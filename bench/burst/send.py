#!/usr/bin/python3
"""Hand COUNT Moodle-style messages to the local Postfix over SMTP (127.0.0.1:25), as Moodle's
PHPMailer does with the default smtpmaxbulk of 1: one SMTP session per message, one recipient,
From noreply@DOMAIN, multipart/alternative text and HTML, Moodle's bulk headers. Prints one JSON
line: accepted, refused (with the first answers), seconds."""

import json
import smtplib
import sys
import threading
import time
from email.message import EmailMessage

count, threads, run_id, size, domain = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    sys.argv[3],
    int(sys.argv[4]),
    sys.argv[5],
)
accepted, refused, lock = [0], [], threading.Lock()
FILLER = "Dear student, a new post was made in the forum you follow. " * 200


def message(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f'"Teacher One (via Moodle)" <noreply@{domain}>'
    msg["To"] = f"student{i % 500}@students.test"
    msg["Subject"] = f"Course 101: forum post {i}"
    msg["Message-ID"] = f"<bench-burst-{run_id}-{i}@{domain}>"
    msg["Precedence"] = "Bulk"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Auto-Submitted"] = "auto-generated"
    msg["List-Id"] = f'"Course 101" <forum101.{domain}>'
    text = FILLER[: max(size // 2 - 200, 100)]
    msg.set_content(text)
    msg.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
    return msg


def worker(indexes: range) -> None:
    for i in indexes:
        try:
            with smtplib.SMTP("127.0.0.1", 25, local_hostname="moodle.school.test", timeout=120) as smtp:
                smtp.send_message(
                    message(i), from_addr=f"noreply@{domain}", to_addrs=[f"student{i % 500}@students.test"]
                )
            with lock:
                accepted[0] += 1
        except (smtplib.SMTPException, OSError) as error:
            with lock:
                refused.append(f"{i}: {error}")


started = time.monotonic()
pool = [threading.Thread(target=worker, args=(range(t, count, threads),)) for t in range(threads)]
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()
print(
    json.dumps(
        {
            "accepted": accepted[0],
            "refused": len(refused),
            "refused_first": refused[:10],
            "seconds": round(time.monotonic() - started, 2),
        }
    )
)
