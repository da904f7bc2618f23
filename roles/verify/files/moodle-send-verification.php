<?php
// lms.mail's verification message, sent by Moodle itself: email_to_user() from Moodle's no-reply
// user, so that what the receiver judges is Moodle's own mail (its From, Reply-To, envelope
// sender, headers and mailer settings), not a message that only resembles it.
//
// usage (the script on standard input, run as the web server's user):
//   php -- MOODLE_DIR RECIPIENT SUBJECT
// Exit codes: 0 sent; 1 Moodle did not send it (the reason on standard output); 2 usage.
//
// Moodle's lib/setup.php sets and unsets globals of common names: this script's own values live
// in one array of its own name and in a function.

define('CLI_SCRIPT', true);

$lmsmailverify = array_slice($_SERVER['argv'], 1);
if (count($lmsmailverify) !== 3) {
    fwrite(STDERR, "usage: php -- MOODLE_DIR RECIPIENT SUBJECT\n");
    exit(2);
}
if (!is_readable($lmsmailverify[0] . '/config.php')) {
    echo "{$lmsmailverify[0]}/config.php is not readable by the user Moodle's PHP runs as"
        . " (verify_moodle_web_user): Moodle's web pages and cron cannot read it either\n";
    exit(1);
}
require($lmsmailverify[0] . '/config.php');

function lmsmailverify_send(string $recipient, string $subject): int {
    global $CFG;
    if (!empty($CFG->noemailever)) {
        echo "Moodle sends no mail at all: \$CFG->noemailever is set in config.php\n";
        return 1;
    }
    if (email_should_be_diverted($recipient)) {
        echo "Moodle diverts this mail to {$CFG->divertallemailsto} (divertallemailsto)\n";
        return 1;
    }
    $noreply = \core_user::get_noreply_user();
    $to = clone($noreply);
    $to->email = $recipient;
    $to->emailstop = 0;
    $to->firstname = 'lms.mail';
    $to->lastname = 'verification';
    $text = "Sent by lms.mail's verify role through Moodle's email_to_user() on {$CFG->wwwroot},\n"
        . "to check that this site's mail is signed, aligned and accepted. It needs no answer.\n";
    // email_to_user() prints the mailer's error itself in a CLI script.
    if (!email_to_user($to, $noreply, $subject, $text)) {
        echo "Moodle's email_to_user() returned false: Moodle could not hand the message over\n";
        return 1;
    }
    echo "sent through Moodle (smtphosts: " . (empty($CFG->smtphosts) ? "PHP mail()" : $CFG->smtphosts) . ")\n";
    return 0;
}

exit(lmsmailverify_send($lmsmailverify[1], $lmsmailverify[2]));
