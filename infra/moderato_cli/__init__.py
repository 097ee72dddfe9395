"""The operator CLI ``moderato``: local stack, replay, classification and review from a terminal."""
