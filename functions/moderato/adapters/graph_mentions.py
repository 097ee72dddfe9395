"""Fetch the text of an Instagram @mention from the Graph API (stdlib only, GET, token in the header).

The ``mentions`` webhook carries ids only (``comment_id``, ``media_id``). The comment or the caption is
on another account's media, so it is read through the mentioned account, as Meta documents it
(developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions):

- a comment: ``GET /{ig-user-id}?fields=mentioned_comment.comment_id({comment-id}){id,text,timestamp,media}``
  (the fields its reference lists; a comment found through a mention cannot be read as ``GET /{comment-id}``
  by anyone but its author, and the node does not give the author's username)
- a caption: ``GET /{ig-user-id}?fields=mentioned_media.media_id({media-id}){caption,username,timestamp,permalink}``

with the Page token of the account (Facebook Login), or its Instagram user token (Instagram Login).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from moderato.enrich.flow import FetchedText, TextUnavailable
from moderato.models import Post
from moderato.platforms.base import epoch_to_datetime, link, optional_text

USER_AGENT = "moderato-enrich/1"
_COMMENT_FIELDS = "{id,text,timestamp,media}"
_CAPTION_FIELDS = "{caption,username,timestamp,permalink}"


class TokenSource(Protocol):
    def token_for(self, family: str, account_id: str) -> str | None: ...


class GraphMentionFetcher:
    def __init__(self, tokens: TokenSource, graph_url: Callable[[str], str], instagram_login: frozenset[str],
                 timeout_seconds: float = 5.0) -> None:
        self._tokens = tokens
        self._graph_url = graph_url  # family -> base URL, read per call: the local stack points it at a fake
        self._instagram_login = instagram_login
        self._timeout = timeout_seconds

    def fetch(self, post: Post) -> FetchedText:
        family = "instagram" if post.account_id in self._instagram_login else "meta"
        token = self._tokens.token_for(family, post.account_id)
        if not token:
            raise TextUnavailable(f"no {family} token for account {post.account_id} in PlatformTokens")
        is_caption = post.thread_id is not None and post.post_id == post.thread_id
        edge, key, fields = (("mentioned_media", "media_id", _CAPTION_FIELDS) if is_caption
                             else ("mentioned_comment", "comment_id", _COMMENT_FIELDS))
        query = urllib.parse.urlencode({"fields": f"{edge}.{key}({post.post_id}){fields}"})
        url = f"{self._graph_url(family).rstrip('/')}/{urllib.parse.quote(post.account_id, safe='')}?{query}"
        found = self._get(url, token).get(edge)
        if not isinstance(found, dict):
            raise TextUnavailable(f"the Graph API answered without {edge}")
        text = found.get("caption" if is_caption else "text")
        return FetchedText(text=text if isinstance(text, str) else "",
                           author_handle=optional_text(found.get("username")),
                           created_at=epoch_to_datetime(found.get("timestamp"), None),
                           permalink=link(found.get("permalink")))

    def _get(self, url: str, token: str) -> dict[str, Any]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                      "Accept": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # nosec B310  # Graph API URLs
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace")
            raise TextUnavailable(f"Graph API answered {error.code}: {detail}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TextUnavailable(f"Graph API unreachable: {error}") from error
        try:
            answer = json.loads(raw)
        except ValueError as error:
            raise TextUnavailable("Graph API answered with something that is not JSON") from error
        return answer if isinstance(answer, dict) else {}
