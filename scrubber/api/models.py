"""Request and response bodies of the HTTP API (pydantic only, so they stay framework-free).

Requests forbid unknown fields and carry only valid Unicode text (JSON can smuggle a lone
surrogate in an escape; UTF-8 cannot hold one). Responses never carry an identifier back.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# The scope a call acts in (a tenant, a route, "api"); the caller's role must list it.
Scope = Annotated[str | None, Field(None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]


def _strings(document: Any) -> list[str]:
    """Every key and string in a JSON document, without recursion (documents can be deep)."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            found.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _is_text(value: str) -> bool:
    """Not a lone surrogate anywhere (JSON can carry one escaped; UTF-8 cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Payload(_Body):
    """Exactly one of `text` (a string) or `json` (an object or array)."""

    text: str | None = None
    json_: dict[str, Any] | list[Any] | None = Field(None, alias="json")
    scope: Scope = None

    @model_validator(mode="after")
    def _exactly_one_valid(self) -> Payload:
        if (self.text is None) == (self.json_ is None):
            raise ValueError("give exactly one of `text` or `json`")
        strings = [self.text] if self.text is not None else _strings(self.json_)
        if not all(_is_text(s) for s in strings):
            raise ValueError("strings must be valid Unicode text (no lone surrogates)")
        return self


class FindingOut(BaseModel):
    path: str = Field(description='JSON field path, "" for text')
    type: str
    start: int
    end: int
    operator: str


class _TextOrJsonOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    text: str | None = None
    json_: dict[str, Any] | list[Any] | None = Field(None, alias="json")


class ScrubResponse(_TextOrJsonOut):
    findings: list[FindingOut]


class TokenStatus(BaseModel):
    token: str
    status: str


class RestoreResponse(_TextOrJsonOut):
    tokens: list[TokenStatus]


class SubjectsRequest(_Body):
    identifiers: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        min_length=1, max_length=100
    )
    scope: Scope = None

    @model_validator(mode="after")
    def _valid_text(self) -> SubjectsRequest:
        if not all(_is_text(s) for s in self.identifiers):
            raise ValueError("identifiers must be valid Unicode text")
        return self


class TokenInfo(BaseModel):
    token: str
    type: str
    key_version: int
    created_at: float
    expires_at: float | None


class SubjectTokens(BaseModel):
    index: int = Field(description="position of the identifier in the request")
    tokens: list[TokenInfo]


class SubjectsResponse(BaseModel):
    subjects: list[SubjectTokens]


class ErrorBody(BaseModel):
    error: str
    message: str
    reason: str | None = None
