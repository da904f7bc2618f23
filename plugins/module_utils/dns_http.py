# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the HTTP API providers (Cloudflare, DigitalOcean) call their API: JSON over one requests
Session that sends only to the configured end point, with bounded retries.

Why it is written the way it is:
- One Session per provider whose only adapter that sends is mounted on the configured end point;
  every other http(s) URL goes to an adapter that refuses it, so nothing (a pagination link, a
  redirect, a wrongly built URL) can carry the token anywhere else. No redirect is followed, and
  the token is set by an auth object, so a ~/.netrc never replaces it.
- A timeout on every request (the adapter's default, also for requests made without one).
- Retries of 429 (never applied, so any method), of 5xx and of a timeout, for the methods the
  provider says are safe to repeat, honouring Retry-After. They are bounded twice: by a number
  of retries and by a budget of seconds spent waiting, so that a throttled account or an API
  having a bad day makes a task fail within a known time, naming the provider and the status,
  instead of hanging a playbook run.
- requests, not a provider SDK: importing the Cloudflare SDK and building its models cost about
  0.6 s a task, more than the task's own work (bench/README.md).

What the API answers means is the provider's business: `send` returns the last response and the
number of retries spent; the provider turns statuses into DnsError subclasses a user can act on.
"""

from __future__ import annotations

import email.utils
import time
import urllib.parse
from collections.abc import Callable, Collection
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsError
from ansible_collections.lms.mail.plugins.module_utils.requirements import load

# requests, bound by end_point_session when a provider makes its session: importing this file
# (which every DNS module does, through the provider registry) costs nothing, and a controller
# without requests fails only when an API provider is chosen, with the pip line to fix it.
requests: Any = None

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
MAX_RETRY_WAIT = 60.0  # never sleep longer than this on one Retry-After
DEFAULT_RETRY_BUDGET = 90.0  # seconds of waiting between retries, at most, in one provider's life


class EndPointEscape(DnsError):
    """A request was about to leave the configured end point; it was not sent."""


class ApiTimeout(DnsError):
    """The API did not answer within the timeout, on every try the budget allowed."""


class _EndPointAdapter:
    """The one adapter that sends: only URLs under the end point, always with a timeout. It wraps
    requests' HTTPAdapter (made when the session is) rather than inherit from it, so that this
    file imports without requests."""

    def __init__(self, title: str, end_point: str, timeout: float) -> None:
        self.title = title
        self.end_point = end_point
        self.timeout = timeout
        self._http = requests.adapters.HTTPAdapter(max_retries=0)

    def send(self, request: Any, **kwargs: Any) -> Any:
        if not str(request.url).startswith(self.end_point):
            raise EndPointEscape(
                f"refusing to send a request outside the configured {self.title} end point: {request.url}"
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return self._http.send(request, **kwargs)

    def close(self) -> None:
        self._http.close()


class _RefuseAdapter:
    """Mounted on http:// and https://: whatever the end point's adapter does not take is refused."""

    def __init__(self, title: str) -> None:
        self.title = title

    def send(self, request: Any, **kwargs: Any) -> Any:
        raise EndPointEscape(
            f"refusing to send a request outside the configured {self.title} end point: {request.url}"
        )

    def close(self) -> None:
        pass


class _Bearer:
    """The token as requests' auth: a callable that sets the header on each request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def end_point_session(end_point: str, token: str, timeout: float, title: str = "API") -> Any:
    """A Session that sends only to end_point (see the module docstring)."""
    global requests  # the package, bound once on first use
    requests = load("requests", "requests.adapters")
    session = requests.Session()
    session.auth = _Bearer(token)
    session.headers["User-Agent"] = "lms.mail"
    session.max_redirects = 0
    refuse = _RefuseAdapter(title)
    session.mount("http://", refuse)
    session.mount("https://", refuse)
    # requests picks the longest matching prefix: the end point's adapter wins under it
    session.mount(end_point, _EndPointAdapter(title, end_point, timeout))
    return session


def with_slash(end_point: str) -> str:
    """urljoin drops the last path segment of a base without a trailing slash (…/v4 + zones
    would become /zones), so an end point always ends with one."""
    return end_point if end_point.endswith("/") else end_point + "/"


class JsonApi:
    """One provider's API: its end point, token, timeout and retry bounds."""

    def __init__(
        self,
        title: str,
        end_point: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        repeatable: Collection[str] = ("GET", "PUT", "PATCH", "DELETE"),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.title = title  # "Cloudflare": how messages name the provider
        self.end_point = with_slash(end_point)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.retry_budget = float(retry_budget)
        # the methods a 5xx or a timeout may be repeated for: the provider knows whether a
        # repeated POST can create a duplicate
        self.repeatable = frozenset(repeatable)
        self.sleep = sleep
        self.waited = 0.0  # seconds spent waiting between retries so far
        self.stopped = ""  # why the last call stopped retrying before max_retries, if it did
        self.session = end_point_session(self.end_point, token, self.timeout, title)

    def send(
        self, what: str, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[Any, int]:
        """One call under the end point: the last response and the retries it took. A timeout
        beyond the retries is ApiTimeout; an unreachable API or a request that would leave the
        end point is DnsError."""
        url = urllib.parse.urljoin(self.end_point, path)
        attempt = 0
        self.stopped = ""
        while True:
            try:
                response = self.session.request(
                    method, url, params=params, json=body, timeout=self.timeout, allow_redirects=False
                )
            except EndPointEscape as err:
                raise EndPointEscape(f"{err} (while {what})") from None
            except requests.Timeout:
                if method in self.repeatable and self._may_retry(attempt, None):
                    attempt += 1
                    continue
                tries = f"tried {attempt + 1} times" if attempt else "tried once"
                tries += f": {self.stopped}" if self.stopped else ""
                hint = (
                    "; the change may or may not have been applied: run again, the module reads "
                    "before it writes"
                    if method not in self.repeatable
                    else ""
                )
                raise ApiTimeout(
                    f"{self.title} did not answer within {self.timeout:g} s while {what} ({tries}){hint}"
                ) from None
            except requests.RequestException as err:
                raise DnsError(
                    f"cannot reach the {self.title} API at {self.end_point} while {what}: {err}"
                ) from None
            status = response.status_code
            retryable = status == 429 or (status >= 500 and method in self.repeatable)
            if retryable and self._may_retry(attempt, response):
                attempt += 1
                continue
            return response, attempt

    def spent(self, attempts: int) -> str:
        """For messages: how many retries the last call made, and why it stopped early."""
        text = f"after {attempts} retries" if attempts else "on the first try"
        return f"{text} ({self.stopped})" if self.stopped else text

    def _may_retry(self, attempt: int, response: Any) -> bool:
        """Wait before the next try and say True, or say False when the retries or the budget
        are spent (a Retry-After longer than what is left of the budget is not waited for)."""
        if attempt >= self.max_retries:
            return False
        delay = retry_delay(response, attempt)
        if self.waited + delay > self.retry_budget:
            asked = "Retry-After" if response is not None and "Retry-After" in response.headers else "backoff"
            self.stopped = (
                f"the next try was due in {delay:g} s ({asked}), beyond what is left of the "
                f"{self.retry_budget:g} s retry budget"
            )
            return False
        self.sleep(delay)
        self.waited += delay
        return True


def retry_delay(response: Any, attempt: int) -> float:
    """Seconds to wait before retry number attempt+1: Retry-After if given, else exponential."""
    header = response.headers.get("Retry-After") if response is not None else None
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_WAIT)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return min(max(parsed.timestamp() - time.time(), 0.0), MAX_RETRY_WAIT)
    return min(0.5 * (2**attempt), MAX_RETRY_WAIT)
