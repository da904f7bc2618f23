#!/bin/sh
# Inside the benchmark's container, after the other measurements: back to signing after the
# queue (the role's default), with the signer on a socket file inside Postfix's chroot instead
# of loopback TCP, to measure what the TCP socket costs. Postfix resolves unix:opendkim/...
# from its queue directory, which is also the chrooted signing smtpd's root.
set -eu
# The socket's directory is postfix's group and setgid, so the socket OpenDKIM makes there is
# postfix's group too: postfix must not join the opendkim group, whose keys are 0640 root:opendkim
# and which OpenDKIM's RequireSafeKeys wants without other members ("key data is not secure").
install -d -o opendkim -g postfix -m 2750 /var/spool/postfix/opendkim
sed -i 's|^Socket.*|Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock|' /etc/opendkim.conf
opendkim -n
systemctl restart opendkim
postconf -e 'content_filter=dkimsign:[127.0.0.1]:10026' 'smtpd_milters=' 'non_smtpd_milters='
postconf -P '127.0.0.1:10026/inet/smtpd_milters=unix:opendkim/opendkim.sock'
postfix check
systemctl restart postfix
sleep 1
