"""Triage: from a parsed post to a case in its queue.

- ``routing``: the label table (label → queue → priority → SLA), defined here once;
- ``cases``: building a case from a post and its verdict, its id and its queue message;
- ``service``: ``TriageService``, a batch of posts classified, weighed, written, routed and alerted;
- ``text_pending``: posts that came as ids only wait in a case until their text is fetched;
- ``crisis_alert``: the one crisis alert per case, claimed before it is published.
"""
