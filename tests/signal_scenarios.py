"""The four signal scenarios as replayable rows (``moderato replay`` format), shared by the
integration tests (triage handler against moto) and the e2e tests (signed deliveries through the local
stack). Row ids carry a run id, so the same scenario can run twice against one stack.
"""

from __future__ import annotations

from typing import Any

FB_PAGE = "206070979425408"
IG_ACCOUNT = "17841405726653026"
X_ACCOUNT = "2244994945"

_PROMO_VARIANTS = [
    "🔥 Gagnez 500€ par semaine depuis chez vous 🔥 crypto sans risque, écrivez-moi: https://bit.ly/gains{n}",
    "Gagnez 500 € par semaine depuis chez vous !!! crypto sans risque\nécrivez-moi: https://tinyurl.com/g{n}",
    "GAGNEZ 500€ PAR SEMAINE DEPUIS CHEZ VOUS 💰💰 crypto sans risque... écrivez-moi: https://cutt.ly/x{n}",
]


def promo_flood(run: str) -> list[dict[str, Any]]:
    """(1) One author pastes the same promo in ten communities within ten minutes."""
    return [{"id": f"{run}-promo-{n}", "platform": "facebook", "brand": "Floralys", "author_name": "Promo Deals 2026",
             "author_id": f"{run}-promoter", "thread": f"{run}-community-{n}", "offset_seconds": -570 + 60 * n,
             "text": _PROMO_VARIANTS[n % 3].format(n=n)} for n in range(10)]


def fake_support(run: str) -> list[dict[str, Any]]:
    """(2) A fake support account answers three complainants with a WhatsApp number; a fan of the brand
    complains and gives her own phone number (a customer, not an impersonator)."""
    customers = ["Jeanne Martin", "Paul Lefèvre", "Amina Diallo"]
    rows: list[dict[str, Any]] = []
    for n, name in enumerate(customers):
        rows.append({"id": f"{run}-complaint-{n}", "platform": "facebook", "brand": "Floralys", "author_name": name,
                     "author_id": f"{run}-customer-{n}", "thread": f"{run}-fete-des-meres", "offset_seconds": -300,
                     "text": f"Commande FL-2093{n} jamais livrée pour la fête des mères, personne ne répond."})
    for n, name in enumerate(customers[:2]):
        rows.append({"id": f"{run}-fake-{n}", "platform": "facebook", "brand": "Floralys",
                     "author_name": "Floralys Support FR", "author_id": f"{run}-impostor", "author_followers": 3,
                     "thread": f"{run}-fete-des-meres", "reply_to": f"{run}-complaint-{n}", "offset_seconds": -120,
                     "text": f"Bonjour {name.split()[0]}, désolé pour ce problème de livraison. Contactez notre "
                             "service remboursement sur WhatsApp au +44 7700 900123 avec vos coordonnées bancaires."})
    rows.append({"id": f"{run}-fan", "platform": "facebook", "brand": "Floralys", "author_name": "Fan de Floralys",
                 "author_id": f"{run}-customer-fan", "thread": f"{run}-fete-des-meres", "offset_seconds": -240,
                 "text": "Ma commande n'est jamais arrivée, rappelez-moi au 06 12 34 56 78"})
    # On X the impostor replies to Amina's tweet (in_reply_to_status_id_str), from a week-old empty account.
    rows.append({"id": f"{run}-fake-x", "platform": "x", "brand": "Floralys", "author_name": "Floralys Help",
                 "author_handle": "floralys_help", "author_id": f"{run}-impostor-x", "author_followers": 2,
                 "author_age_days": 7, "author_posts": 3, "reply_to": f"{run}-amina-tweet", "offset_seconds": -60,
                 "text": "@amina_d Désolés pour le retard ! Notre service client vous répond sur WhatsApp : "
                         "wa.me/447700900123"})
    return rows


_LATE = [
    "Ma commande devait être livrée ce matin pour un anniversaire, toujours rien. Où est mon bouquet ?",
    "Livraison prévue aujourd'hui, colis toujours pas arrivé, et aucune nouvelle du livreur",
    "Toujours pas reçu mes fleurs commandées il y a une semaine, la livraison a un jour de retard",
    "Bouquet commandé pour ce midi, jamais arrivé. Le suivi ne bouge plus depuis hier",
    "Mon colis Floralys est en retard, c'était pour un enterrement, je suis très déçue",
    "Commande {n} non livrée, le transporteur dit qu'il n'a rien reçu de votre part",
]


def late_delivery_wave(run: str) -> list[dict[str, Any]]:
    """(3) Thirty complaints about one late delivery in fifteen minutes (Instagram account).

    No follower counts: Instagram's comment webhook does not send any (so no influencer, no escalation).
    """
    return [{"id": f"{run}-late-{n}", "platform": "instagram", "brand": "Floralys",
             "author_name": f"Cliente {run[-4:]} {n}", "author_id": f"{run}-late-author-{n}",
             "thread": f"{run}-collection-ete", "offset_seconds": -840 + 28 * n,
             "text": _LATE[n % len(_LATE)].format(n=f"FL-3{n:04d}")} for n in range(30)]


def fake_support_flood(run: str) -> list[dict[str, Any]]:
    """(2b) The same fake support reply by one account under seven complaints in seven threads, greeting
    each customer by name (the classifier says spam and also matches its complaint rules)."""
    names = ["Jeanne", "Paul", "Amina", "Marc", "Sophie", "Lucie", "Karim"]
    return [{"id": f"{run}-flood-{n}", "platform": "facebook", "brand": "Floralys",
             "author_name": "Floralys Support FR", "author_id": f"{run}-impostor", "thread": f"{run}-thread-{n}",
             "reply_to": f"{run}-complaint-{n}", "offset_seconds": -420 + 60 * n,
             "text": f"Bonjour {name}, désolé pour ce problème de livraison. Contactez notre service remboursement "
                     "sur WhatsApp au +44 7700 900123 avec vos coordonnées bancaires."} for n, name in enumerate(names)]


def where_is_my_order(run: str) -> list[dict[str, Any]]:
    """(4) Thirty customers ask "where is my order?" (X account)."""
    return [{"id": f"{run}-wimo-{n}", "platform": "x", "brand": "Floralys", "author_name": f"Customer {n}",
             "author_handle": f"cust_{run[-4:]}_{n}", "author_id": f"{run}-wimo-author-{n}", "author_followers": 80,
             "offset_seconds": -600 + 20 * n, "text": "@Floralys where is my order?"} for n in range(30)]
