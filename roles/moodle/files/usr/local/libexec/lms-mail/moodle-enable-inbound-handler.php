<?php
// Enable one of Moodle's inbound message handlers (a row of {messageinbound_handlers}, not a
// setting) through Moodle's own API, the way Site administration > Server > Incoming mail
// configuration > Message handlers does. Installed by lms.mail's moodle role.
//
//   php moodle-enable-inbound-handler.php /path/to/config.php '\mod_forum\message\inbound\reply_handler' [--check]
//
// Prints one JSON line: installed (Moodle has a database and finished installing), found (the
// handler is registered), enabled (after this run), changed. --check changes nothing.

define('CLI_SCRIPT', true);

if ($argc < 3) {
    fwrite(STDERR, "usage: php {$argv[0]} /path/to/config.php HANDLER_CLASS [--check]\n");
    exit(2);
}
$configphp = $argv[1];
$classname = $argv[2];
$check = in_array('--check', array_slice($argv, 3), true);

require($configphp);

$result = ['installed' => false, 'found' => false, 'enabled' => false, 'changed' => false];
if (during_initial_install()) {
    echo json_encode($result), "\n";
    exit(0);
}
$result['installed'] = true;

$handler = \core\message\inbound\manager::get_handler($classname);
if ($handler) {
    $result['found'] = true;
    $result['enabled'] = (bool) $handler->enabled;
    if (!$handler->enabled) {
        if (!$handler->can_change_enabled()) {
            fwrite(STDERR, "Moodle does not allow enabling {$classname}\n");
            exit(1);
        }
        if (!$check) {
            $record = \core\message\inbound\manager::record_from_handler($handler);
            $record->enabled = 1;
            $DB->update_record('messageinbound_handlers', $record);
        }
        $result['enabled'] = true;
        $result['changed'] = true;
    }
}
echo json_encode($result), "\n";
