"""Readable alert messages for people: crisis cases, complaint waves, CloudWatch alarms (pure)."""
