#!/bin/sh
# Inside the benchmark's container: switch to one of the configurations run.py measures. Each
# starts again from what the roles wrote (saved by setup.yml before the first measurement) and
# changes only what it names, so every configuration differs from the role's defaults by itself.
#   lms-mail-bench-dkim-switch NAME
set -eu
name=$1
cp /etc/postfix/main.cf.bench-defaults /etc/postfix/main.cf
cp /etc/postfix/master.cf.bench-defaults /etc/postfix/master.cf
cp /etc/opendkim.conf.bench-defaults /etc/opendkim.conf
signing=127.0.0.1:10026/inet
case "$name" in
  after_queue)
    # The roles' defaults as they wrote them.
    ;;
  reinject_unsigned)
    # The same two passes through the queue, without the signer: what the re-injection costs.
    postconf -P "$signing/smtpd_milters="
    ;;
  milter_lean)
    # The milter's settings: Postfix sends the signer no macros it does not use for signing
    # (OpenDKIM signs for InternalHosts by the client's address; it reads the queue id {i} for
    # its log only) and OpenDKIM logs nothing per message (Syslog no).
    for stage in connect helo mail rcpt data end_of_header end_of_data unknown_command; do
      postconf -P "$signing/milter_${stage}_macros="
    done
    sed -i 's/^Syslog\b.*/Syslog\t\t\tno/' /etc/opendkim.conf
    ;;
  reinject_reuse)
    # The re-injection keeps its sessions to the signing smtpd open between messages (Postfix's
    # connection cache on demand), instead of a new session and milter negotiation per message.
    postconf -P 'dkimsign/unix/smtp_connection_cache_on_demand=yes'
    ;;
  inline)
    # The milter where mail is handed over (postfix_milter_mode inline, the role's former path):
    # port 25 and sendmail run the signer themselves, milter_default_action = accept.
    postconf -e 'content_filter=' 'smtpd_milters=inet:127.0.0.1:8891' 'non_smtpd_milters=inet:127.0.0.1:8891' \
      'milter_default_action=accept'
    postconf -P '127.0.0.1:2526/inet/smtpd_milters='
    ;;
  after_queue_unix)
    # After the queue, with the signer on a socket file inside Postfix's chroot instead of
    # loopback TCP. Postfix resolves unix:opendkim/... from its queue directory, the chrooted
    # signing smtpd's root. The directory is postfix's group and setgid, so the socket OpenDKIM
    # makes there is postfix's group too: postfix must not join the opendkim group, whose keys
    # are 0640 root:opendkim and which RequireSafeKeys wants without other members.
    install -d -o opendkim -g postfix -m 2750 /var/spool/postfix/opendkim
    sed -i 's|^Socket.*|Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock|' /etc/opendkim.conf
    postconf -P "$signing/smtpd_milters=unix:opendkim/opendkim.sock"
    ;;
  *)
    echo "unknown configuration: $name" >&2
    exit 2
    ;;
esac
opendkim -n
postfix check
systemctl restart opendkim postfix
sleep 2
