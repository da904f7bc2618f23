#!/bin/sh
# Inside the benchmark's container, after the measurement with the role's defaults: the milter
# where Moodle hands mail over (postfix_milter_mode inline, the role's path before after_queue):
# port 25 and sendmail run the signer themselves, milter_default_action = accept.
set -eu
postconf -e 'content_filter=' 'smtpd_milters=inet:127.0.0.1:8891' 'non_smtpd_milters=inet:127.0.0.1:8891' \
  'milter_default_action=accept'
postconf -P '127.0.0.1:2526/inet/smtpd_milters='
postfix check
postfix reload
sleep 1
