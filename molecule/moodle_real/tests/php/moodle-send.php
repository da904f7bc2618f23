<?php
// Send one message with Moodle's own email_to_user(), as Moodle's forum does, and print what it
// did as JSON: {"sent": true|false, "reply_to": the reply-by-email address or ""}.
//   php moodle-send.php CONFIG_PHP RECIPIENT SUBJECT [--from=TEACHER_ADDRESS] [--reply-by-email]
// From is the no-reply user, or with --from a teacher whose address everyone may see (Moodle puts
// it in From only when allowedemaildomains lists its domain). --reply-by-email asks Moodle's
// inbound address manager for the forum's reply address, as the forum does for each post (empty
// unless inbound mail and the forum's reply handler are enabled). The recipient is the admin user
// with the given address (nothing is saved). Moodle's debugging is shown, so that a refused
// message says why (for example "SMTP connect() failed").
// config.php runs lib/setup.php in this global scope, which sets and unsets globals of common
// names: this script keeps its own values in functions.
define('CLI_SCRIPT', true);

function lms_mail_options(array $argv): array {
    $options = ['config' => $argv[1], 'to' => $argv[2], 'subject' => $argv[3], 'from' => '', 'reply' => false];
    foreach (array_slice($argv, 4) as $arg) {
        if (strpos($arg, '--from=') === 0) {
            $options['from'] = substr($arg, strlen('--from='));
        } else if ($arg === '--reply-by-email') {
            $options['reply'] = true;
        } else {
            fwrite(STDERR, "unknown option $arg\n");
            exit(2);
        }
    }
    return $options;
}

function lms_mail_send(array $options): void {
    global $CFG;
    $CFG->debug = DEBUG_DEVELOPER;
    $CFG->debugdisplay = 1;

    $to = get_admin();
    $to->email = $options['to'];
    $to->firstname = 'Student';
    if ($options['from'] === '') {
        $from = \core_user::get_noreply_user();
    } else {
        $from = clone $to;
        $from->email = $options['from'];
        $from->firstname = 'Teacher';
        $from->maildisplay = \core_user::MAILDISPLAY_EVERYONE;
    }
    $replyto = '';
    if ($options['reply']) {
        $manager = new \core\message\inbound\address_manager();
        $manager->set_handler('\mod_forum\message\inbound\reply_handler');
        $manager->set_data(1);
        $replyto = (string) $manager->generate($to->id);
    }
    $text = "Sent by Moodle's email_to_user() for the lms.mail tests.\n";
    $sent = email_to_user($to, $from, $options['subject'], $text, '', '', '', true, $replyto);
    echo json_encode(['sent' => $sent, 'reply_to' => $replyto]), "\n";
}

require(lms_mail_options($argv)['config']);
lms_mail_send(lms_mail_options($argv));
