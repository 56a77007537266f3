"""Fetching a file someone shared with the bot: `files.info`, then the private URL with the bot token.

The bot token is only ever sent to Slack's file host or to the configured Web API host (a proxy or a test
double), never to whatever URL a payload names. Slack answers a download without a valid token with its
HTML sign-in page rather than an error, so an HTML body where a document was expected is reported as such.
"""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from retrieval.loaders import SUPPORTED_SUFFIXES

MAX_REPORT_BYTES = 25 * 1024 * 1024
SLACK_FILE_HOSTS = frozenset({"files.slack.com", "slack-files.com"})
DOWNLOAD_TIMEOUT = 60.0


class FileFetchError(Exception):
    """The file could not be fetched; `str()` says why and what to do, for the thread."""


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    size: int
    user: str
    url: str
    shares: dict[str, list[dict[str, Any]]]

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    def share_in(self, channel: str) -> dict[str, Any] | None:
        """Where this file was posted in `channel`: {'ts': …, 'thread_ts': …}."""
        posts = self.shares.get(channel) or []
        return posts[-1] if posts else None


def file_info(client: WebClient, file_id: str) -> SharedFile:
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as error:
        reason = error.response.get("error")
        raise FileFetchError(
            f"Slack would not describe the file ({reason}). Check the app has the files:read scope and is "
            "a member of this channel, then upload the report again."
        ) from error
    shares: dict[str, list[dict[str, Any]]] = {}
    for scope in ("public", "private"):
        for channel, posts in (info.get("shares") or {}).get(scope, {}).items():
            shares.setdefault(channel, []).extend(posts)
    return SharedFile(
        id=info["id"],
        name=info.get("name") or info.get("title") or info["id"],
        size=int(info.get("size") or 0),
        user=info.get("user", ""),
        url=info.get("url_private_download") or info.get("url_private") or "",
        shares=shares,
    )


def check_supported(shared: SharedFile) -> None:
    if shared.suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise FileFetchError(
            f"I can read reports as {kinds}; {shared.name} is not one of those. Save it as PDF or Word and "
            "upload it again, or paste the recommendation."
        )
    if shared.size > MAX_REPORT_BYTES:
        raise FileFetchError(
            f"{shared.name} is {shared.size / 1_048_576:.0f} MB; the limit is "
            f"{MAX_REPORT_BYTES // 1_048_576} MB. Upload the report without embedded images."
        )


def download(shared: SharedFile, token: str, api_base_url: str | None, folder: Path) -> Path:
    """Save the file under `folder` (keeping its suffix, which tells the reader its format)."""
    _check_host(shared.url, api_base_url)
    request = urllib.request.Request(shared.url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
            content_type = response.headers.get("Content-Type", "")
            data = response.read(MAX_REPORT_BYTES + 1)
    except (urllib.error.URLError, TimeoutError) as error:
        raise FileFetchError(f"Downloading {shared.name} failed ({error}); upload it again.") from error
    if len(data) > MAX_REPORT_BYTES:
        raise FileFetchError(f"{shared.name} is larger than {MAX_REPORT_BYTES // 1_048_576} MB.")
    if "text/html" in content_type and shared.suffix != ".html":
        raise FileFetchError(
            f"Slack returned a sign-in page instead of {shared.name}: the bot token cannot read files. "
            "Add the files:read scope, reinstall the app, and upload the report again."
        )
    target = Path(tempfile.mkdtemp(prefix="responder-", dir=folder)) / f"report{shared.suffix}"
    target.write_bytes(data)
    return target


def _check_host(url: str, api_base_url: str | None) -> None:
    host = urlparse(url).hostname or ""
    allowed = set(SLACK_FILE_HOSTS)
    if api_base_url:
        allowed.add(urlparse(api_base_url).hostname or "")
    if host not in allowed:
        raise FileFetchError(
            f"The file's address is on {host or 'no host'}, not Slack; I will not send the bot token there."
        )
