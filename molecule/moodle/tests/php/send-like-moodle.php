<?php
// Send one message with Debian's PHPMailer the way Moodle's get_mailer() and email_to_user() use
// the site's settings (lib/moodlelib.php), reading them from $CFG after loading config.php:
// - smtphosts "" -> PHP mail() (the local sendmail); otherwise SMTP to the ";"-separated host list,
//   smtpsecure as SMTPSecure, and authentication (smtpauthtype) only when smtpuser is set;
// - mailnewline, the envelope sender = noreplyaddress, From = the sender's own address only when its
//   domain is in allowedemaildomains (wildcards "*.domain"), else noreplyaddress with
//   "Name (via Site)" by emailfromvia; Reply-To; emailsubjectprefix; emailheaders;
// - Moodle's DKIM: <dataroot>/dkim/<From domain>/<emaildkimselector>.private when it exists;
// - reply_by_email: Reply-To is <messageinbound_mailbox>+<code>@<messageinbound_domain>.
// A test of the settings, not Moodle's code: Moodle's moodle_phpmailer subclass is not here.
//
//   php send-like-moodle.php CONFIG_PHP TO SUBJECT [--from=ADDRESS] [--mail]
//   --from: the user the message is from (a teacher); --mail: send through mail() as smtphosts "" would.
// Prints a JSON line: the From, Reply-To and envelope sender it used.

define('CLI_SCRIPT', true);
$options = getopt('', ['from:', 'mail'], $rest);
[$configphp, $to, $subject] = array_slice($argv, $rest, 3);
require($configphp);
require_once('/usr/share/php/libphp-phpmailer/autoload.php');

use PHPMailer\PHPMailer\PHPMailer;

class mailer_like_moodle extends PHPMailer {
    public static function use_newline(string $le): void {
        static::setLE($le);
    }
}

function domain_is_allowed(string $domain, string $allowed): bool {
    foreach (array_filter(array_map('trim', explode("\n", $allowed))) as $entry) {
        $entry = strtolower($entry);
        if ($entry === strtolower($domain)) {
            return true;
        }
        if (str_starts_with($entry, '*.') && str_ends_with(strtolower($domain), substr($entry, 1))) {
            return true;
        }
    }
    return false;
}

$mail = new mailer_like_moodle(true);
$mail->CharSet = 'UTF-8';
mailer_like_moodle::use_newline(($CFG->mailnewline ?? 'LF') === 'CRLF' ? "\r\n" : "\n");

$usemail = isset($options['mail']) || empty($CFG->smtphosts);
if ($usemail) {
    $mail->isMail();
} else {
    $mail->isSMTP();
    $mail->Host = $CFG->smtphosts;
    $mail->SMTPSecure = $CFG->smtpsecure;
    if (!empty($CFG->smtpuser)) {
        $mail->SMTPAuth = true;
        $mail->Username = $CFG->smtpuser;
        $mail->Password = $CFG->smtppass;
        $mail->AuthType = $CFG->smtpauthtype;
    }
}

$noreply = $CFG->noreplyaddress;
$sitename = 'School';
$fromuser = $options['from'] ?? null;
$fromname = 'Teacher Example';
$mail->Sender = $noreply;
if ($fromuser !== null && domain_is_allowed(substr($fromuser, strpos($fromuser, '@') + 1), $CFG->allowedemaildomains ?? '')) {
    $mail->setFrom($fromuser, $fromname, false);
} else {
    $via = in_array((int) ($CFG->emailfromvia ?? 1), [1, 2], true);
    $mail->setFrom($noreply, $via ? "{$fromname} (via {$sitename})" : $fromname, false);
}

$inbound = !empty($CFG->messageinbound_enabled) && !empty($CFG->messageinbound_mailbox)
    && !empty($CFG->messageinbound_domain);
if ($inbound) {
    $mail->addReplyTo($CFG->messageinbound_mailbox . '+' . bin2hex(random_bytes(8)) . '@' . $CFG->messageinbound_domain);
} else if ($fromuser !== null) {
    $mail->addReplyTo($fromuser, $fromname);
}

$mail->addAddress($to);
$mail->Subject = empty($CFG->emailsubjectprefix) ? $subject : $CFG->emailsubjectprefix . ' ' . $subject;
$mail->Body = "Sent by the lms.mail tests with Debian's PHPMailer, as Moodle would: {$subject}\n";
foreach (array_filter(array_map('trim', explode("\n", $CFG->emailheaders ?? ''))) as $header) {
    $mail->addCustomHeader($header);
}

if (!empty($CFG->emaildkimselector)) {
    $domain = substr(strrchr($mail->From, '@'), 1);
    $pempath = "{$CFG->dataroot}/dkim/{$domain}/{$CFG->emaildkimselector}.private";
    if (file_exists($pempath)) {
        $mail->DKIM_domain = $domain;
        $mail->DKIM_private = $pempath;
        $mail->DKIM_selector = $CFG->emaildkimselector;
        $mail->DKIM_identity = $mail->From;
    }
}

$mail->send();
echo json_encode([
    'transport' => $usemail ? 'mail' : 'smtp',
    'from' => $mail->From,
    'sender' => $mail->Sender,
    'reply_to' => array_keys($mail->getReplyToAddresses()),
    'dkim' => $mail->DKIM_domain !== '',
]), "\n";
