<?php
// STAND-IN for Moodle's lib/setup.php, for the lms.mail tests only: no Moodle code is available
// offline. It keeps the parts of Moodle's behaviour that lms.mail's moodle role relies on:
// - whatever config.php (and the files it requires) set before this file is "forced": it lands in
//   $CFG->config_php_settings and wins over the database, as in Moodle;
// - settings stored in the database fill in the rest of $CFG; get_config()/set_config();
// - during_initial_install() (no database yet: Moodle is not installed);
// - the inbound message handler API (\core\message\inbound\manager) over the
//   {messageinbound_handlers} rows;
// - the CLI helpers admin/cli/cfg.php uses.
// The "database" is a JSON file in the data root; no such file means Moodle is not installed.

namespace {
    defined('MOODLE_INTERNAL') || define('MOODLE_INTERNAL', true);

    global $CFG, $DB;
    $CFG->config_php_settings = (array) $CFG;
    $CFG->dirroot = dirname(__DIR__);
    $CFG->libdir = __DIR__;
    $DB = new standin_database($CFG->dataroot . '/standin-db.json');
    foreach ($DB->config('core') as $name => $value) {
        if (!array_key_exists($name, $CFG->config_php_settings)) {
            $CFG->$name = $value;
        }
    }

    /** A JSON file standing in for Moodle's database: config, config_plugins, messageinbound_handlers. */
    class standin_database {
        private string $path;
        private array $data;

        public function __construct(string $path) {
            $this->path = $path;
            $this->data = is_file($path) ? json_decode(file_get_contents($path), true) : [];
        }

        public function installed(): bool {
            return $this->data !== [];
        }

        public function config(string $component): array {
            return $this->data['config'][$component] ?? [];
        }

        public function set_config(string $component, string $name, ?string $value): void {
            if ($value === null) {
                unset($this->data['config'][$component][$name]);
            } else {
                $this->data['config'][$component][$name] = $value;
            }
            $this->save();
        }

        public function get_record(string $table, array $conditions) {
            foreach ($this->data[$table] ?? [] as $row) {
                if (array_intersect_assoc($conditions, $row) == $conditions) {
                    return (object) $row;
                }
            }
            return false;
        }

        public function update_record(string $table, $record): bool {
            foreach ($this->data[$table] as $i => $row) {
                if ($row['id'] == $record->id) {
                    $this->data[$table][$i] = array_merge($row, array_map(
                        fn($v) => is_bool($v) ? (int) $v : $v, (array) $record));
                    $this->save();
                    return true;
                }
            }
            throw new RuntimeException("no {$table} row {$record->id}");
        }

        private function save(): void {
            file_put_contents($this->path, json_encode($this->data, JSON_PRETTY_PRINT) . "\n", LOCK_EX);
        }
    }

    function during_initial_install() {
        global $CFG;
        return empty($CFG->rolesactive);
    }

    function get_config($plugin, $name = null) {
        global $CFG, $DB;
        $component = ($plugin === null || $plugin === 'moodle' || $plugin === 'core') ? 'core' : $plugin;
        $values = $DB->config($component);
        if ($component === 'core') {
            $values = array_merge($values, array_map('strval', array_filter(
                $CFG->config_php_settings, fn($v) => is_scalar($v))));
        }
        if ($name === null) {
            return (object) $values;
        }
        return array_key_exists($name, $values) ? (string) $values[$name] : false;
    }

    function set_config($name, $value, $plugin = null) {
        global $CFG, $DB;
        $component = ($plugin === null || $plugin === 'moodle' || $plugin === 'core') ? 'core' : $plugin;
        $DB->set_config($component, $name, $value === null ? null : (string) $value);
        if ($component === 'core') {
            if ($value === null) {
                unset($CFG->$name);
            } else {
                $CFG->$name = (string) $value;
            }
        }
        return true;
    }

    function cli_get_params(array $longoptions, array $shortmapping = []) {
        global $argv;
        $options = $longoptions;
        $unrecognised = [];
        foreach (array_slice($argv, 1) as $arg) {
            if (!preg_match('/^--?([^=]+)(=(.*))?$/s', $arg, $m)) {
                $unrecognised[] = $arg;
                continue;
            }
            $key = $shortmapping[$m[1]] ?? $m[1];
            if (!array_key_exists($key, $longoptions)) {
                $unrecognised[] = $arg;
                continue;
            }
            $options[$key] = isset($m[2]) && $m[2] !== '' ? $m[3] : true;
        }
        return [$options, $unrecognised];
    }

    function cli_write($text) {
        fwrite(STDOUT, $text);
    }

    function cli_writeln($text) {
        cli_write($text . PHP_EOL);
    }

    function cli_error($text, $errorcode = 1) {
        fwrite(STDERR, $text . PHP_EOL);
        exit($errorcode);
    }
}

namespace core\message\inbound {
    /** Stand-in for Moodle's handler base class: the fields the admin page and the role use. */
    abstract class handler {
        public $id;
        public $component;
        public $defaultexpiration = 604800;
        public $validateaddress = 1;
        public $enabled = 0;

        public function set_id($id) { $this->id = $id; }
        public function set_component($component) { $this->component = $component; }
        public function set_defaultexpiration($value) { $this->defaultexpiration = $value; }
        public function set_validateaddress($value) { $this->validateaddress = $value; }
        public function set_enabled($value) { $this->enabled = $value; }
        public function can_change_enabled() { return true; }
    }

    /** Stand-in for Moodle's \core\message\inbound\manager: get_handler() and record_from_handler(). */
    class manager {
        public static function get_handler($classname) {
            global $DB;
            if (strpos($classname, '\\') !== 0) {
                $classname = '\\' . $classname;
            }
            $record = $DB->get_record('messageinbound_handlers', ['classname' => $classname]);
            if (!$record || !class_exists($classname)) {
                return false;
            }
            $handler = new $classname();
            $handler->set_id($record->id);
            $handler->set_component($record->component);
            $handler->set_defaultexpiration($record->defaultexpiration);
            $handler->set_validateaddress($record->validateaddress);
            $handler->set_enabled($record->enabled);
            return $handler;
        }

        public static function record_from_handler($handler) {
            $record = new \stdClass();
            $record->id = $handler->id;
            $record->component = $handler->component;
            $record->classname = '\\' . ltrim(get_class($handler), '\\');
            $record->defaultexpiration = $handler->defaultexpiration;
            $record->validateaddress = $handler->validateaddress;
            $record->enabled = $handler->enabled;
            return $record;
        }
    }
}

namespace mod_forum\message\inbound {
    /** Stand-in for the forum's reply handler class. */
    class reply_handler extends \core\message\inbound\handler {
    }
}
