<?php
// Load a Moodle site's config.php as Moodle's own CLI scripts do, and print $CFG as JSON with the
// names config.php forced (what the admin UI would show read-only).
//   php dump-cfg.php /var/www/moodle/config.php
define('CLI_SCRIPT', true);
require($argv[1]);
$forced = array_keys($CFG->config_php_settings);
$cfg = (array) $CFG;
unset($cfg['config_php_settings']);
echo json_encode(['cfg' => $cfg, 'forced' => $forced]), "\n";
