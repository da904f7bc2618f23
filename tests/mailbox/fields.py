"""Authentication-Results field values as real receivers write them, for the parser's tests and
the messages the module's tests deliver. The lab receiver's formats come from Debian 12's
packages: the format strings in the opendkim and opendmarc binaries, and policyd-spf's Python
source, rendered with python3-authres as policyd-spf does."""

GMAIL = (
    "mx.google.com; dkim=pass header.i=@example.com header.s=sel header.b=abc; "
    "spf=pass (google.com: domain of x@example.com designates 192.0.2.1 as permitted sender) "
    "smtp.mailfrom=x@example.com; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com"
)
# OpenDKIM 2.11.0~beta2 (Debian 12): "dkim=%s", [" reason=\"%s\""], " (%u-bit key%s%s)",
# " header.d=%s header.i=%s header.a=%s header.s=%s", " header.b=%s" (a prefix of the signature,
# unquoted: 2.10 and older quoted it)
OPENDKIM = (
    "mx.students.test; dkim=pass (2048-bit key; unprotected) header.d=school.test "
    "header.i=@school.test header.a=rsa-sha256 header.s=202611 header.b=AbCd1234"
)
OPENDKIM_FAIL = (
    'mx.students.test;\n\tdkim=fail reason="signature verification failed" (2048-bit key; unprotected)\n'
    "\theader.d=school.test header.i=@school.test header.a=rsa-sha256 header.s=202611 header.b=Ab/C+d=x"
)
# OpenDMARC 1.4.2 (Debian 12): "%s%s%s; dmarc=%s (p=%s dis=%s) header.from=%s"
OPENDMARC = "mx.students.test; dmarc=pass (p=none dis=none) header.from=school.test"
# postfix-policyd-spf-python 3.0.4 with Header_Type = AR: python3-authres renders
# SPFAuthenticationResult(result, result_comment, smtp_mailfrom, smtp_mailfrom_comment)
POLICYD_SPF = (
    "mx.students.test; spf=pass (sender SPF authorized) smtp.mailfrom=school.test "
    "(client-ip=10.89.231.40; helo=moodle.school.test; envelope-from=noreply@school.test; receiver=<UNKNOWN>)"
)
POLICYD_SPF_HELO = (
    "mx.students.test; spf=none (no SPF record) smtp.helo=moodle.school.test "
    "(client-ip=10.89.231.40; helo=moodle.school.test; envelope-from=<>; receiver=student@students.test)"
)
