"""The safety-net codes other modules key on, in a module light enough for the alerts function.

The categories, their sentences and their phrases live in ``classify/data/safety.json`` (loaded by
``classify/safety.py``, which checks that these codes are among them).
"""

SELF_HARM = "crisis.self_harm"
"""Suicide or self-harm: the most urgent crisis of all; its alert says so and its case carries a helpline reply."""
