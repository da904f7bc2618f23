<?php
// STAND-IN for Moodle's admin/cli/cfg.php, for the lms.mail tests only: no Moodle code is
// available offline. It follows the real script's options and exit codes:
//   --name=NAME [--component=C] [--json] [--shell-arg] [--no-eol]   print one value: 0 found, 3 not set
//   --name=NAME --set=VALUE | --unset                                 0 done, 4 forced in config.php
//   [--component=C] [--json]                                          list all, 0
//   --help                                                            2; a set without --name: 2
// Every call is appended to <dataroot>/standin-cfg-calls.log, so that the tests can count them.

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../config.php');

file_put_contents($CFG->dataroot . '/standin-cfg-calls.log',
    json_encode(array_slice($argv, 1)) . "\n", FILE_APPEND | LOCK_EX);

[$options, $unrecognised] = cli_get_params([
    'help' => false,
    'component' => null,
    'name' => null,
    'set' => null,
    'unset' => false,
    'shell-arg' => false,
    'json' => false,
    'no-eol' => false,
], ['h' => 'help']);

if ($unrecognised) {
    cli_error('Unknown option: ' . implode(' ', $unrecognised));
}
if ($options['help']) {
    cli_writeln('Usage: php cfg.php [--component=C] [--name=NAME [--set=VALUE | --unset]] [--json]');
    exit(2);
}
if ($options['set'] === true) {
    $options['set'] = '';
}

if ($options['unset'] || $options['set'] !== null) {
    if (empty($options['name'])) {
        cli_error('Missing configuration variable name', 2);
    }
    if (array_key_exists($options['name'], $CFG->config_php_settings)) {
        cli_error('The configuration variable is hard-set in the config.php, unable to change.', 4);
    }
    set_config($options['name'], $options['unset'] ? null : $options['set'], $options['component']);
    exit(0);
}

if ($options['name'] === null) {
    $got = get_config($options['component']);
    if ($options['json']) {
        cli_writeln(json_encode($got));
    } else {
        foreach ((array) $got as $name => $value) {
            cli_writeln($name . "\t" . ($options['shell-arg'] ? escapeshellarg($value) : $value));
        }
    }
    exit(0);
}

$got = get_config($options['component'], $options['name']);
if ($got === false) {
    cli_error('No such configuration variable found.', 3);
}
if ($options['shell-arg']) {
    $got = escapeshellarg($got);
}
if ($options['json']) {
    $got = json_encode($got);
}
$options['no-eol'] ? cli_write($got) : cli_writeln($got);
exit(0);
