"""Platform actions: what call each action is on each platform, and running it after a re-check.

Only hide, unhide, reply and ban exist. There is no delete: not in ``ActionKind``, not in the calls
built here, and ``PlatformCall`` refuses any HTTP method but POST and PUT.
"""
