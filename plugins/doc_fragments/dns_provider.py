# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every lms.mail DNS record module shares (module_utils/dns_options.py). The provider
choices, token variables, requirements and TSIG algorithms are checked against the provider
registry (module_utils/dns_registry.py) by tests/unit/plugins/module_utils/test_dns_registry.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  provider:
    description:
      - Where the zone is hosted.
      - V(rfc2136) sends dynamic updates with TSIG to O(server) (BIND, Knot, PowerDNS) and reads
        through the same server.
    type: str
    required: true
    choices: [cloudflare, digitalocean, rfc2136]
  api_token:
    description:
      - API token of the Cloudflare or DigitalOcean account.
      - When not set, the environment variable E(CLOUDFLARE_API_TOKEN) (Cloudflare) or
        E(DIGITALOCEAN_TOKEN) / E(DIGITALOCEAN_ACCESS_TOKEN) (DigitalOcean) is used; only the chosen
        provider's variables are read.
      - Needs permission to read zones and edit DNS records; never printed.
      - A token with a blank, a line break or a non-ASCII character is refused.
    type: str
  api_base_url:
    description:
      - Base URL of the provider's API, for a proxy or a local emulator.
      - Defaults to the provider's public API.
      - Must be V(https://...); plain V(http://) is refused unless the host is a loopback address
        (V(127.0.0.1), V(::1), V(localhost)), because the API token would cross the network in
        clear. No credentials in the URL. For V(digitalocean) the same rule applies to
        E(DIGITALOCEAN_END_POINT).
    type: str
  server:
    description:
      - Primary DNS server that accepts the updates (name or address). Required for V(rfc2136).
    type: str
  port:
    description: Port of O(server).
    type: int
    default: 53
  tsig_key_name:
    description: Name of the TSIG key the server's update-policy grants (V(rfc2136)).
    type: str
  tsig_key_secret:
    description: Base64 secret of the TSIG key (V(rfc2136)); never printed.
    type: str
  tsig_key_algorithm:
    description: Algorithm of the TSIG key (V(rfc2136)).
    type: str
    default: hmac-sha256
    choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
  timeout:
    description: Seconds to wait for each answer of the provider or server.
    type: float
    default: 10
  ttl:
    description:
      - TTL of the record in seconds.
      - When not set, an existing record keeps its TTL and a new one gets 3600.
    type: int
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - dnspython >= 2.6, < 3 (V(rfc2136), and for reading DNS)
  - requests >= 2.31, < 3 (V(cloudflare), V(digitalocean)); no provider SDK is needed
notes:
  - The module runs on the controller; delegate it to C(localhost) or run it in a play on localhost.
  - A library missing on the controller (or outside the version range) makes the module fail
    before any change, naming the pip package and the interpreter to install it for.
  - When the DNS server answers a read with anything but data or NXDOMAIN (REFUSED, SERVFAIL)
    or not at all, the module fails without a change - a temporary error, naming the server
    and its answer.
  - Records the module does not own at the same name (other TXT values such as site
    verifications) are never changed. Records are added, updated and deleted one value at a
    time, never as a whole set.
  - Cloudflare and DigitalOcean - an answer 429 (Too Many Requests), a 5xx or none within
    O(timeout) is retried up to 3 times, waiting as Retry-After says (at most 60 s a time, 90 s
    in all); then the module fails, naming the provider, the status and the retries. On DigitalOcean
    a create answered 5xx or not at all is not repeated (it may have been applied, and a repeat
    would add the record twice); the message says to run again (the module reads first).
"""

    # The modules that only read DNS (mail_dns_info, dns_records_wait) take the type of resolver and
    # resolver_port from here and give resolver a description of their own, which wins.
    RESOLVER = r"""
options:
  resolver:
    description:
      - Addresses of the DNS servers used to read names outside the provider's zones (include
        targets, host names), as a receiving mail server would.
      - Defaults to the controller's resolvers.
    type: list
    elements: str
  resolver_port:
    description: Port of the O(resolver) servers.
    type: int
    default: 53
"""
