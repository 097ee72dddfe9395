"""TriageService with the signal engine over in-memory fakes: the four signal scenarios, and more.

The classifier is a stub here (the real one is tested on its own): these tests prove what the
signals do with whatever the classifier says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderato.models import Author, Label, Post, Verdict
from moderato.reasons import reason
from moderato.settings import SlaPolicy, load_brand_accounts
from moderato.signals import SignalEngine, codes, load_signals_config, record_confirmed_spam
from moderato.triage.service import TriageService
from tests.unit.signals.fakes import MemoryCases, MemorySignalStore, Recorder

PAGE = "206070979425408"
START = datetime(2026, 5, 30, 9, 0, tzinfo=UTC)
PROMO = "🔥 Gagnez 500€ par semaine depuis chez vous 🔥 crypto sans risque, écrivez-moi sur https://bit.ly/{n}"


def stub_classify(post: Post) -> Verdict:
    text = post.text.lower()
    if "hôpital" in text:
        label = Label.CRISIS
    elif any(word in text for word in ("commande", "order", "livr", "colis", "problème")):
        label = Label.COMPLAINT
    elif "gagnez" in text:
        label = Label.SPAM
    else:
        label = Label.NORMAL
    return Verdict(label=label, scores={label.value: 0.8}, reasons=[], model="stub")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def make_service(**overrides: object) -> tuple[TriageService, MemoryCases, Recorder, MemorySignalStore, Clock]:
    store, cases, out, clock = MemorySignalStore(), MemoryCases(), Recorder(), Clock()
    config = load_signals_config(environ={})
    engine = SignalEngine(store, config, load_brand_accounts())
    service = TriageService(cases=cases, queues=out, alerts=out, classify=overrides.get("classify", stub_classify),
                            sla=SlaPolicy(), clock=clock, signals=engine, waves=out)
    return service, cases, out, store, clock


def post(n: int, text: str, author_id: str = "a1", name: str = "Promo Deals", thread: str = "t1",
         followers: int | None = None, at: datetime = START, account: str = PAGE, reply_to: str | None = None,
         handle: str | None = None) -> Post:
    """A comment under the brand's post, or (``reply_to``) a reply to someone's comment."""
    return Post(platform="facebook", kind="reply" if reply_to else "comment", post_id=f"c{n}", parent_id=reply_to,
                thread_id=thread, account_id=account, author=Author(id=author_id, name=name, handle=handle,
                                                                    followers=followers),
                text=text, created_at=at, brand="Floralys", dedup_key=f"facebook:{account}:c{n}")


def reasons(case) -> set[str]:
    return {r.code for r in case.reasons}


def test_one_author_pasting_a_promo_in_ten_threads_makes_ten_spam_cases_with_the_duplicate_reason() -> None:
    service, cases, out, _, clock = make_service()
    for n in range(10):
        clock.now = START + timedelta(seconds=50 * n)
        service.triage(post(n, PROMO.format(n=n), thread=f"thread-{n}", at=clock.now))
    assert len(cases.cases) == 10
    for case in cases.cases.values():
        assert case.label == Label.SPAM and codes.DUPLICATE_BY_AUTHOR in reasons(case), case.post.post_id
    last = cases.cases[next(reversed(cases.cases))]
    detail = next(r.detail for r in last.reasons if r.code == codes.DUPLICATE_BY_AUTHOR)
    assert detail == "same text by this author in 10 threads in 10 min"
    # The first two were spam before the flood was visible: they got the reason afterwards, with history.
    assert [e.action for e in cases.events].count("signal_added") == 2
    assert len(out.sent) == 10  # already in SpamQueue: no second message for the same case


def test_an_earlier_normal_post_of_a_flood_is_relabelled_and_sent_to_the_spam_queue() -> None:
    service, cases, out, _, clock = make_service()
    text = "Découvrez mon profil pour des offres incroyables sur les fleurs et les bouquets"
    for n in range(3):
        clock.now = START + timedelta(minutes=n)
        service.triage(post(n, text, thread=f"thread-{n}", at=clock.now))
    assert all(c.label == Label.SPAM for c in cases.cases.values())
    assert [c.post.post_id for c in out.sent].count("c0") == 1  # sent once, when it became spam


def test_the_same_text_in_one_thread_is_not_a_cross_community_flood() -> None:
    service, cases, _, _, clock = make_service()
    for n in range(3):
        clock.now = START + timedelta(minutes=n)
        service.triage(post(n, "Vraiment très joli ce bouquet de pivoines roses", at=clock.now))
    assert all(c.label == Label.NORMAL for c in cases.cases.values())


FAKE_SUPPORT = ("Bonjour {name}, désolé pour ce problème de livraison. Contactez notre service remboursement sur "
                "WhatsApp au +44 7700 900123 avec vos coordonnées bancaires.")


@pytest.mark.parametrize(("name", "handle"), [
    ("Floralys Support FR", None),
    ("Service client", "floralys_help"),
    ("FIoralys", None),  # a capital I for the l
])
def test_a_fake_support_account_answering_complainants_with_whatsapp_is_spam(name: str, handle: str | None) -> None:
    service, cases, out, _, _ = make_service()  # the stub reads "problème de livraison" as a complaint
    for n, customer in enumerate(["Jeanne", "Paul", "Amina"]):
        service.triage(post(n, FAKE_SUPPORT.format(name=customer), author_id="imp", name=name, handle=handle,
                            thread=f"t{n}", reply_to=f"complaint-of-{customer}"))
    for case in cases.cases.values():
        assert case.label == Label.SPAM
        assert {codes.IMPERSONATION, codes.CONTACT_REDIRECT} <= reasons(case)
    assert out.waves == []  # spam is never counted in a complaint wave


def test_a_fan_giving_her_own_phone_number_in_a_complaint_stays_a_complaint() -> None:
    service, cases, _, _, _ = make_service()
    text = "Ma commande n'est jamais arrivée, rappelez-moi au 06 12 34 56 78"
    service.triage(post(1, text, author_id="fan", name="Fan de Floralys"))
    # Even a service-like name is no scam when the number comes in the author's own complaint, not in
    # a reply to someone else.
    service.triage(post(2, text, author_id="sav", name="Floralys Support FR"))
    for case in cases.cases.values():
        assert case.label == Label.COMPLAINT and case.queue == "ComplaintQueue", case.reasons
        assert not {codes.IMPERSONATION, codes.CONTACT_REDIRECT} & reasons(case)


def spam_with_complaint_rules(post: Post) -> Verdict:
    """What the real classifier says of the fake support reply: spam, and complaint rules matched too."""
    return Verdict(label=Label.SPAM, scores={"spam": 1.0, "complaint": 0.0, "crisis": 0.0, "normal": 0.0},
                   reasons=[reason("rule.spam.contact_redirect"), reason("rule.spam.fake_support"),
                            reason("rule.complaint.delivery"), reason("rule.complaint.refund")], model="stub")


def test_the_same_fake_support_reply_in_seven_threads_keeps_its_duplicate_reason() -> None:
    service, cases, _, _, clock = make_service(classify=spam_with_complaint_rules)
    for n, customer in enumerate(["Jeanne", "Paul", "Amina", "Marc", "Sophie", "Lucie", "Karim"]):
        clock.now = START + timedelta(minutes=n)
        service.triage(post(n, FAKE_SUPPORT.format(name=customer), author_id="imp", name="Floralys Support FR",
                            thread=f"t{n}", reply_to=f"complaint-{n}", at=clock.now))
    assert all(c.label == Label.SPAM and codes.DUPLICATE_BY_AUTHOR in reasons(c) for c in cases.cases.values())
    details = {r.detail for c in cases.cases.values() for r in c.reasons if r.code == codes.DUPLICATE_BY_AUTHOR}
    assert "same text by this author in 7 threads in 10 min" in details


def test_the_same_fake_support_reply_by_twelve_accounts_is_coordinated() -> None:
    service, cases, _, _, clock = make_service(classify=spam_with_complaint_rules)
    for n in range(12):
        clock.now = START + timedelta(minutes=3 * n)
        service.triage(post(n, FAKE_SUPPORT.format(name=f"Client{n}"), author_id=f"imp{n}",
                            name=f"Floralys Help {n}", thread=f"t{n}", reply_to=f"complaint-{n}", at=clock.now))
    assert all(c.label == Label.SPAM and codes.DUPLICATE_COORDINATED in reasons(c) for c in cases.cases.values())
    details = {r.detail for c in cases.cases.values() for r in c.reasons if r.code == codes.DUPLICATE_COORDINATED}
    assert "same text by 12 authors in 1 h (coordinated)" in details


def test_thirty_complaints_about_one_late_delivery_send_one_wave_alert() -> None:
    service, cases, out, store, clock = make_service()
    for n in range(30):
        clock.now = START + timedelta(seconds=30 * n)
        service.triage(post(n, f"Ma commande {1000 + n} n'est toujours pas livrée, c'était pour aujourd'hui",
                            author_id=f"cust{n}", name=f"Client {n}", followers=300_000 if n == 4 else 150,
                            at=clock.now))
    assert len(out.waves) == 1
    alert = out.waves[0]
    assert alert.kind == "wave_alert" and alert.priority == 2
    assert alert.count == 10 and alert.window_minutes == 15 and alert.subject == "delivery"
    assert alert.brand == "Floralys" and alert.usual == 0.0
    assert "livree" in alert.top_terms and len(alert.sample_case_ids) == 5
    assert [s.case_id for s in alert.samples] == alert.sample_case_ids[:3]
    assert all(s.text.startswith("Ma commande 10") for s in alert.samples)
    assert alert.list_path.startswith("/cases?queue=ComplaintQueue&status=open&brand=Floralys&platform=facebook")
    assert alert.amplifiers == 1 and alert.max_followers == 300_000  # the influencer was there from the start
    assert all(c.label == Label.COMPLAINT for c in cases.cases.values())
    members = [c for c in cases.cases.values() if codes.WAVE_MEMBER in reasons(c)]
    assert len(members) == 21  # the 10th complaint onwards
    assert sum(codes.WAVE_STARTED in reasons(c) for c in cases.cases.values()) == 1
    influencer = next(c for c in cases.cases.values() if c.post.post_id == "c4")
    assert influencer.priority == 1 and codes.INFLUENCER in reasons(influencer)
    assert store.expiries and all(e > START.timestamp() for e in store.expiries)


def test_thirty_customers_asking_where_is_my_order_stay_complaints() -> None:
    service, cases, _, _, clock = make_service()
    for n in range(30):
        clock.now = START + timedelta(seconds=20 * n)
        service.triage(post(n, "Where is my order? Still nothing after ten days", author_id=f"c{n}",
                            name=f"Customer {n}", thread=f"t{n % 4}", at=clock.now))
    assert all(c.label == Label.COMPLAINT for c in cases.cases.values())
    assert not any(codes.DUPLICATE_COORDINATED in reasons(c) for c in cases.cases.values())


def test_the_same_text_with_a_hidden_link_by_many_authors_is_coordinated_spam() -> None:
    service, cases, _, _, clock = make_service()
    for n in range(6):
        clock.now = START + timedelta(minutes=n)
        service.triage(post(n, f"Suivez ce compte pour gagner un iPhone gratuit aujourd'hui bit.ly/win{n}",
                            author_id=f"bot{n}", name=f"Bot {n}", thread=f"t{n}", at=clock.now))
    labels = [c.label for c in cases.cases.values()]
    assert labels == [Label.SPAM] * 6  # the first four too, once the fifth author showed the campaign
    assert all(codes.DUPLICATE_COORDINATED in reasons(c) for c in cases.cases.values())


def test_duplication_alone_never_makes_spam() -> None:
    service, cases, _, _, clock = make_service()
    for n in range(8):
        clock.now = START + timedelta(minutes=n)
        service.triage(post(n, "Trop hâte de voir la nouvelle collection de printemps en boutique",
                            author_id=f"fan{n}", name=f"Fan {n}", thread=f"t{n}", at=clock.now))
    assert all(c.label == Label.NORMAL and not c.reasons for c in cases.cases.values())


def test_a_complaint_the_classifier_labelled_normal_is_still_protected_and_counted_in_the_wave() -> None:
    # A weak model: "normal", though it gives the complaint a fair score.
    service, cases, out, _, clock = make_service(classify=lambda p: Verdict(
        label=Label.NORMAL, scores={"normal": 0.7, "complaint": 0.3}, reasons=[], model="weak"))
    for n in range(30):
        clock.now = START + timedelta(seconds=20 * n)
        service.triage(post(n, "@Floralys where is my order? https://bit.ly/track", author_id=f"c{n}",
                            thread=f"t{n}", at=clock.now))
    assert all(c.label == Label.NORMAL and codes.DUPLICATE_COORDINATED not in reasons(c)
               for c in cases.cases.values())
    assert len(out.waves) == 1


def test_crisis_markers_outrank_spam_signals() -> None:
    service, cases, _, _, _ = make_service()
    service.triage(post(1, "Mon fils est à l'hôpital après vos fleurs, appelez-moi sur WhatsApp +33 6 12 34 56 78",
                        author_id="x", name="Floralys Support"))
    [case] = cases.cases.values()
    assert case.label == Label.CRISIS


def test_a_redelivery_counts_nothing_twice() -> None:
    service, cases, _, store, _ = make_service()
    first = post(1, "Ma commande n'est jamais arrivée, toujours rien reçu", author_id="z")
    service.triage(first)
    service.triage(first)
    assert len(cases.cases) == 1
    # One journal entry, so the post counts once in its wave and in its author's rate.
    [entry] = store.journaled
    assert entry.wave_key == f"{PAGE}#delivery"
    assert store.window.wave_minutes(entry.wave_key, "M#202605300000", "M#202605302359") == {"M#202605300900": 1}
    assert store.window.author_minutes(entry.author, "M#202605300000", "M#202605302359") == {"M#202605300900": 1}


def test_a_confirmed_spammer_is_remembered() -> None:
    service, cases, _, store, _ = make_service()
    record_confirmed_spam(store, "facebook", "repeat", START, load_signals_config(environ={}))
    service.triage(post(1, "Allez voir mon site bit.ly/fleurs-pas-cheres tout de suite", author_id="repeat"))
    [case] = cases.cases.values()
    assert case.label == Label.SPAM and {codes.REPEAT_OFFENDER, codes.LINK_SHORTENER} <= reasons(case)


def test_a_burst_of_posts_from_one_author_is_spam() -> None:
    service, cases, _, _, _ = make_service()
    for n in range(12):
        service.triage(post(n, f"coucou {n}", author_id="fast", thread=f"t{n}"))
    by_post = {c.post.post_id: c for c in cases.cases.values()}
    assert by_post["c8"].label == Label.NORMAL
    assert by_post["c11"].label == Label.SPAM and codes.AUTHOR_BURST in reasons(by_post["c11"])
