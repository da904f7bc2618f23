"""Local stand-ins for the Cloudflare v4 and DigitalOcean v2 HTTP APIs, bound to 127.0.0.1.

They are driven by the providers' real HTTP client (requests, through plugins/module_utils/
dns_http.py) so that the providers are tested against the requests actually sent, never against a
real API host.
"""

from .cloudflare import CloudflareEmulator
from .digitalocean import DigitalOceanEmulator

__all__ = ["CloudflareEmulator", "DigitalOceanEmulator"]
