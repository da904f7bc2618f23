#!/bin/sh
# Inside the benchmark's container, after the inet measurement: move the signer to a socket
# file inside Postfix's chroot (the alternative the dkim role does not take, see its README),
# to measure what the loopback TCP socket costs. Postfix resolves unix:opendkim/... from its
# queue directory, which is also the chrooted smtpd's and cleanup's root.
set -eu
install -d -o opendkim -g opendkim -m 0750 /var/spool/postfix/opendkim
usermod -aG opendkim postfix
sed -i 's|^Socket.*|Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock|' /etc/opendkim.conf
opendkim -n
systemctl restart opendkim
postconf -e smtpd_milters=unix:opendkim/opendkim.sock non_smtpd_milters=unix:opendkim/opendkim.sock
postconf -P '127.0.0.1:2526/inet/smtpd_milters='
systemctl restart postfix
sleep 1
