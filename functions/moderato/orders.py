"""Order numbers customers quote in their posts, so support finds the order without asking again. Pure.

Only a number introduced by an order word counts ("commande n° FL-20931", "order #123-456",
"Bestellnummer 12345678", "pedido 4567"): a bare number may be a phone number, a price or a date.
Numbers are returned upper-cased, in the order they appear, each once.
"""

from __future__ import annotations

import re

# The words that introduce an order number, in the four languages the classifier reads; accents are
# optional because customers type without them.
_ORDER_WORD = re.compile(
    r"\b(?:commandes?|cde|cmde?"  # fr
    r"|orders?|ordr|odrer"  # en, with the typos thumbs make ("oder" is German "or": left out)
    r"|pedidos?|encargos?"  # es
    r"|bestell(?:ung|nummer|nr)|bestell-nr|auftrags?(?:nummer|nr)?)\b",  # de
    re.IGNORECASE)
# Right after the word: "n°", "no.", "nr.", "#", "number", ":"... then the number itself (letters, digits,
# inner dashes or slashes; it may end on letters: "FR12345A", "ES-20931-B", "7H8K9L"). Matched only on a
# short window after each order word, so a hostile text
# (thousands of "commande : : :") costs a bounded amount of work per word, never a backtracking blow-up.
_NUMBER_AFTER = re.compile(
    r"(?:[\s:#.°º-]|n[°º]|nº|num(?:[ée]ro|ber|mer)?|no|nr|id|ref){0,12}?"
    r"([a-z]{0,4}-?\d[\w/-]{0,30}[a-z0-9]|\d{3,})",
    re.IGNORECASE)
_WINDOW = 64
_MIN_DIGITS = 3
MAX_ORDER_NUMBERS = 5  # a post quoting more is a list, not a customer's order


def order_numbers(text: str) -> list[str]:
    """The order numbers quoted in ``text`` (at most five), e.g. ``["FL-20931"]``."""
    found: list[str] = []
    for word in _ORDER_WORD.finditer(text):
        match = _NUMBER_AFTER.match(text, word.end(), min(len(text), word.end() + _WINDOW))
        if match is None:
            continue
        number = match.group(1).strip("-/").upper()
        if sum(ch.isdigit() for ch in number) < _MIN_DIGITS or number in found:
            continue
        found.append(number)
        if len(found) == MAX_ORDER_NUMBERS:
            break
    return found


def normalize_order_number(value: str) -> str:
    """A number as a reviewer types it in a search, in the form ``order_numbers`` stores it."""
    return value.strip().strip("#").strip().upper()
