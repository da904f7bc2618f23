<?php
// Enable or disable one of Moodle's inbound message handlers (a row of {messageinbound_handlers},
// not a setting) through Moodle's own API, as Site administration > Server > Incoming mail
// configuration > Message handlers (admin/tool/messageinbound/index.php) does. lms.mail's moodle
// role runs it as the web server's user, the script on standard input:
//
//   php -- /path/to/config.php '\mod_forum\message\inbound\reply_handler' enabled|disabled [--check]
//
// Prints one JSON line: installed (Moodle has a database and finished installing), found (the
// handler is registered), can_change (Moodle lets the handler be switched), enabled (before this
// run), changed (the row differs, or differed, from the state asked for). --check changes nothing.
//
// Moodle's lib/setup.php, which config.php loads, sets and unsets globals of common names
// ($classname, for one): this script keeps its own values in one global of its own name and in
// function scope.

define('CLI_SCRIPT', true);

function lmsmail_inbound_handler_args(array $args): array {
    $usage = "usage: php -- /path/to/config.php HANDLER_CLASS enabled|disabled [--check]\n";
    if (count($args) < 4 || !in_array($args[3], ['enabled', 'disabled'], true)) {
        fwrite(STDERR, $usage);
        exit(2);
    }
    $extra = array_slice($args, 4);
    if (array_diff($extra, ['--check']) !== []) {
        fwrite(STDERR, $usage);
        exit(2);
    }
    return [
        'configphp' => $args[1],
        'classname' => $args[2],
        'enabled' => $args[3] === 'enabled',
        'check' => in_array('--check', $extra, true),
    ];
}

function lmsmail_inbound_handler(array $lmsmail): array {
    global $DB;
    $result = ['installed' => false, 'found' => false, 'can_change' => false, 'enabled' => false,
               'changed' => false];
    if (during_initial_install()) {
        return $result;
    }
    $result['installed'] = true;

    $handler = \core\message\inbound\manager::get_handler($lmsmail['classname']);
    if (!$handler) {
        return $result;
    }
    $result['found'] = true;
    $result['can_change'] = (bool) $handler->can_change_enabled();
    $result['enabled'] = (bool) $handler->enabled;
    if ($result['enabled'] === $lmsmail['enabled']) {
        return $result;
    }
    $result['changed'] = true;
    if (!$result['can_change']) {
        // Nothing is written: the role refuses this before any change, with can_change false.
        return $result;
    }
    if (!$lmsmail['check']) {
        $record = \core\message\inbound\manager::record_from_handler($handler);
        $record->enabled = $lmsmail['enabled'] ? 1 : 0;
        $DB->update_record('messageinbound_handlers', $record);
        $after = \core\message\inbound\manager::get_handler($lmsmail['classname']);
        if (!$after || (bool) $after->enabled !== $lmsmail['enabled']) {
            fwrite(STDERR, "Moodle did not keep the new state of {$lmsmail['classname']}\n");
            exit(1);
        }
    }
    return $result;
}

$lmsmail_inbound_handler_args = lmsmail_inbound_handler_args($argv);
require($lmsmail_inbound_handler_args['configphp']);
$lmsmail_inbound_handler_result = lmsmail_inbound_handler($lmsmail_inbound_handler_args);
echo json_encode($lmsmail_inbound_handler_result), "\n";
