"""Who may see what: the portal's access tokens, their scopes, and the export files a scope may download."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dealersync.exports.due_list import _file_safe as file_safe_name

ALL, DEALER, REGION = "all", "dealer", "region"
TOKEN_MIN_LENGTH = 16
SESSION_COOKIE = "dealersync_portal"
DOWNLOADABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv")


class PortalConfigError(ValueError):
    """The portal's token settings cannot be used; the message never shows a token."""


@dataclass(frozen=True)
class Scope:
    """What a token may see: everything, one dealer's data, or one region's."""

    kind: str
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        """`all`, `dealer:D0012` (code trimmed and upper-cased) or `region:华北`; ValueError otherwise."""
        kind, _, value = text.strip().partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if kind == ALL and not value:
            return cls(ALL)
        if kind == DEALER and value:
            return cls(DEALER, value.upper())
        if kind == REGION and value:
            return cls(REGION, value)
        raise ValueError(f"{text!r} is not a scope: write all, dealer:D0012 or region:华北")

    def __str__(self) -> str:
        return ALL if self.kind == ALL else f"{self.kind}:{self.value}"

    @property
    def dealer(self) -> str | None:
        return self.value if self.kind == DEALER else None

    @property
    def region(self) -> str | None:
        return self.value if self.kind == REGION else None


EVERYTHING = Scope(ALL)


def token_scopes(tokens: Mapping[str, str]) -> dict[str, Scope]:
    """Token -> Scope from the settings' mapping; PortalConfigError (naming the scope, not the token)."""
    scopes = {}
    for token, text in tokens.items():
        try:
            scope = Scope.parse(text)
        except ValueError as error:
            raise PortalConfigError(f"DEALERSYNC_PORTAL_TOKENS: {error}") from None
        if len(token.strip()) < TOKEN_MIN_LENGTH:
            raise PortalConfigError(
                f"DEALERSYNC_PORTAL_TOKENS: the token for {scope} is shorter than {TOKEN_MIN_LENGTH} "
                "characters; make one with: python -c 'import secrets; print(secrets.token_urlsafe())'"
            )
        scopes[token.strip()] = scope
    return scopes


def session_value(token: str) -> str:
    """The cookie value a browser keeps after logging in with `token` (a digest, never the token)."""
    return hashlib.sha256(b"dealersync-portal-session\0" + token.encode()).hexdigest()


class Access:
    """The tokens of the settings; finds the scope of a request's bearer token or session cookie."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._tokens = token_scopes(tokens)
        self._sessions = {session_value(token): scope for token, scope in self._tokens.items()}

    @property
    def open(self) -> bool:
        """No token configured: everyone sees everything (serve refuses this beyond loopback)."""
        return not self._tokens

    def for_token(self, token: str) -> Scope | None:
        """The scope of a token, or None; every token is compared in constant time."""
        return _lookup(self._tokens, token.strip())

    def for_session(self, cookie: str) -> Scope | None:
        """The scope of a session cookie value, or None."""
        return _lookup(self._sessions, cookie)

    def for_request(self, authorization: str | None, cookie: str | None) -> Scope | None:
        """The scope of a request: `Authorization: Bearer <token>`, else the session cookie, else None."""
        if self.open:
            return EVERYTHING
        if authorization and authorization[:7].lower() == "bearer ":
            return self.for_token(authorization[7:])
        if cookie:
            return self.for_session(cookie)
        return None


def _lookup(known: Mapping[str, Scope], given: str) -> Scope | None:
    found = None
    for candidate, scope in known.items():
        if hmac.compare_digest(candidate.encode(), given.encode()):
            found = scope
    return found


def exports_file(exports_dir: Path, relative: str) -> tuple[Path, PurePosixPath] | None:
    """The file a download path names, resolved, with its path relative to the exports folder.

    None unless it is a regular .xlsx, .xlsm or .csv file inside the exports folder once every `..` and
    symbolic link is resolved (no traversal, no absolute path, no symlink escape, no hidden file).
    """
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    root = Path(exports_dir).resolve()
    try:
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
    except (OSError, RuntimeError, ValueError):  # OSError: a name longer than the file system allows
        return None
    inside = PurePosixPath(target.relative_to(root).as_posix())
    if (
        any(part.startswith(".") for part in inside.parts)
        or target.suffix.lower() not in DOWNLOADABLE_SUFFIXES
    ):
        return None
    return target, inside


def may_download(inside: PurePosixPath, scope: Scope, dealers: Collection[str] | None) -> bool:
    """Whether a scope may download an exports file (path relative to the exports folder).

    Everything for `all`. A dealer or region token: due lists of its dealers (`dealers`) and, for a
    region, the region's own file; steward workbooks under a folder of one of its dealers. Quality
    reports and other regions' or the company's files are never offered to a scoped token.
    """
    if scope.kind == ALL:
        return True
    parts = inside.parts
    allowed = {file_safe_name(code) for code in dealers or ()}
    if len(parts) == 3 and parts[0] == "due_lists":
        stem = PurePosixPath(parts[2]).stem
        kind, _, name = stem.partition("_")
        if kind == DEALER:
            return name in allowed
        return kind == REGION and scope.kind == REGION and name == file_safe_name(scope.value)
    if len(parts) >= 4 and parts[0] == "steward":
        return parts[2] in allowed
    return False


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target inside the portal: a local path, never another site (`//host`, `/\\host`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return default
    return target
