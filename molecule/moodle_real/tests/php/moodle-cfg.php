<?php
// Load a Moodle site's config.php as Moodle's own CLI scripts do, and print $CFG as JSON with the
// names config.php forced (what the admin UI shows read-only).
//   php moodle-cfg.php /var/www/moodle/config.php
// config.php runs lib/setup.php in this global scope, which sets and unsets globals of common
// names: this script keeps its own values in a function.
define('CLI_SCRIPT', true);

function lms_mail_print_cfg(): void {
    global $CFG;
    $cfg = (array) $CFG;
    unset($cfg['config_php_settings']);
    $dump = ['cfg' => $cfg, 'forced' => array_keys($CFG->config_php_settings)];
    echo json_encode($dump, JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
}

require($argv[1]);
lms_mail_print_cfg();
