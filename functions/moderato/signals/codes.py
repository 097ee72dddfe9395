"""Reason codes of the behaviour signals: one constant, one human sentence each (shown to reviewers).

Details carry the specifics ("same text by this author in 7 threads in 10 min"), so the sentence stays
stable and the reviewer still sees the numbers behind the decision.
"""

from __future__ import annotations

from moderato.reasons import define

DUPLICATE_BY_AUTHOR = define(
    "signal.duplicate_by_author",
    "The same text was posted by this author in several threads or pages in a short time (copy-paste flood).",
)
DUPLICATE_COORDINATED = define(
    "signal.duplicate_coordinated",
    "The same text was posted by many different authors in a short time (coordinated posting).",
)
AUTHOR_BURST = define(
    "signal.author_burst",
    "This author posted far more often in a few minutes than a person writing by hand does.",
)
REPEAT_OFFENDER = define(
    "signal.repeat_offender",
    "Earlier posts by this author were confirmed as spam by a reviewer.",
)
EMPTY_ACCOUNT = define(
    "signal.empty_account",
    "The platform reports an empty or brand-new account (no followers, no history).",
)
NEW_ACCOUNT = define(
    "signal.new_account",
    "The platform reports that the author's account was created only a few days ago.",
)
IMPERSONATION = define(
    "signal.impersonation",
    "The author's name or handle imitates one of the brand's own accounts without being it.",
)
CONTACT_REDIRECT = define(
    "signal.contact_redirect",
    "The post sends people to a private contact channel (WhatsApp, Telegram, a phone number, an e-mail).",
)
LINK_SHORTENER = define("link.shortener", "The post contains a shortened link that hides its destination.")
LINK_OBFUSCATED = define(
    "link.obfuscated",
    "The post contains a disguised link (spaced or bracketed dots, hxxp, look-alike characters, punycode).",
)
LINK_LOOKALIKE = define(
    "link.lookalike_domain",
    "The post links to a domain that imitates one of the brand's own domains.",
)
LINK_DENIED = define("link.denied_domain", "The post links to a domain on the configured deny list.")
INFLUENCER = define(
    "signal.influencer",
    "The author has a large audience: what they post can spread fast, so it is handled first.",
)
WAVE_MEMBER = define(
    "wave.member",
    "Part of a wave of complaints about the same subject on this account.",
)
WAVE_STARTED = define(
    "wave.started",
    "This post started a wave of complaints on one subject; one crisis alert was sent for the wave.",
)
WAVE_ESCALATED = define(
    "wave.escalated",
    "A large account joined this wave after its alert; one escalation was sent for the wave.",
)
