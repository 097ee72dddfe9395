"""The crisis safety net: real threats are crisis with the right code, idioms are not, nothing raises."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

# The regex parser's own tree (private, stable from 3.11 to 3.13): the only way to see how repeats nest.
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest

from moderato.alerting.format import format_alert
from moderato.classify import Classifier, classify
from moderato.classify.normalize import normalize
from moderato.classify.safety import SAFETY_CODES, SAFETY_FILE, SAFETY_NET, check_text, load_safety_net
from moderato.helplines import HelplineConfig, default_helplines, load_helplines, suggested_reply
from moderato.models import Author, Case, Label, Platform, Post, PostKind, Verdict
from moderato.reasons import describe
from moderato.safety_codes import SELF_HARM
from moderato.settings import ConfigurationError, SlaPolicy
from moderato.triage.cases import case_message
from moderato.triage.routing import route
from moderato.triage.service import TriageService
from tests.support import CASE_SCHEMA, assert_case_message

NOW = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
VIOLENCE, POISONING, INJURY = "crisis.violence", "crisis.poisoning", "crisis.injury"
DEVICE, DOXXING = "crisis.medical_device", "crisis.doxxing"


def post(text: str, brand: str | None = None) -> Post:
    return Post(platform=Platform.X, kind=PostKind.MENTION, post_id="1866", account_id="2244994945",
                author=Author(id="42", handle="someone"), text=text, created_at=NOW, brand=brand,
                dedup_key="x:1866")


def codes(text: str) -> list[str]:
    return [hit.code for hit in check_text(text)]


SELF_HARM_POSTS = [
    # The posts that came out normal or complaint before the safety net.
    "I am going to kill myself tonight",
    "Honestly I just want to end it all",
    "je vais me suicider",
    "Ich bringe mich heute Nacht um",
    "J'ai avalé toute la boîte de somnifères",
    # The brief's indirect forms, in all four languages.
    "I won't be here next week",
    "tell my kids I'm sorry",
    "j'ai plus envie de vivre",
    "ya no quiero vivir",
    "ich will nicht mehr leben",
    "kms",
    "nobody would even notice. they'd all be better off without me",
    "I have no reason to live anymore",
    "there is nothing left to live for",
    "I'm standing on the bridge right now",
    "going to jump off the roof of your car park tonight",
    "just swallowed the whole bottle of sleeping pills, bye",
    "took all my pills. sorry mum",
    "I've been cutting myself again",
    "wrote my goodbye letter this morning",
    "feeling suicidal and your bot keeps sending me promo codes",
    # Real shapes: handles, t.co links, hashtags, no accents, typos, SMS style.
    "@Floralys jvais me suicider ce soir https://t.co/Ab12Cd",
    "@Floralys j'vais me foutre en l'air, plus rien à perdre #help",
    "jsuis a bout jveux plus vivre",
    "J’AI AVALÉ TOUTE LA BOITE DE SOMNIFERES",
    "jai avale toute la plaquette de doliprane 😭",
    "je veux en finir ce soir",
    "mettre fin à mes jours, voilà ce que je veux",
    "ils seront tous mieux sans moi",
    "dites à mes enfants que je les aime",
    "idk if i'll be alive tomorrow tbh",
    "i wanna kms",
    "I want to die. seriously.",
    "me voy a suicidar esta noche @BancoSol",
    "ya no kiero vivir mas",
    "me tomé todas las pastillas de mi madre",
    "estarían mejor sin mí",
    "ich werde mich umbringen #hilfe",
    "Ich habe alle Schlaftabletten geschluckt",
    "ich will einfach nur sterben",
    "Mein Abschiedsbrief liegt auf dem Tisch",
    "k1ll mys3lf tonight",
    "kill my self",
    "honestly I'm done with life",
    "i wish i was dead",
    "I just want to go to sleep and never wake up",
    "i overdosed on purpose last night",
    "thinking about how to unalive myself",
    "I'm just a burden to everyone",
    "j'en peux plus de vivre",
    "je suis juste un fardeau pour ma famille",
    "soy una carga para todos",
    "Ich will mich vor den Zug werfen",
    "killmyself tonight",
    "I've got the tablets here, going to swallow them all tonight",
    "been thinking about sucide a lot",
    "gonna end it tonight",
    "I cant go on anymore",
    "jvais m suicider",
    "me kiero morir",
    "voy a suisidarme",
]

CATEGORY_POSTS = [
    ("I'll come back with a gun tomorrow, you've been warned @FreshMart", VIOLENCE),
    ("je vais vous planter, vous allez voir", VIOLENCE),
    ("ich bringe euch um", VIOLENCE),
    ("Ich bring euch alle um wenn ihr nicht zahlt", VIOLENCE),
    ("there's a guy with a knife in your Leeds store right now!! https://t.co/x9", VIOLENCE),
    ("huge fight broke out at the checkout, a customer punched the cashier", VIOLENCE),
    ("your security guard assaulted my son in front of everyone", VIOLENCE),
    ("bagarre dans votre magasin de Lyon, un client a sorti un couteau", VIOLENCE),
    ("un vigile m'a frappé au visage à la caisse", VIOLENCE),
    ("te voy a matar, sé dónde vives", VIOLENCE),
    ("Messerstecherei vor eurer Filiale am Bahnhof", VIOLENCE),
    ("I know where you live @ceo_handle", VIOLENCE),
    ("kys", VIOLENCE),
    ("my son ate one of your laundry pods and we're at poison control", POISONING),
    ("I had a severe allergic reaction to your shampoo", POISONING),
    ("my kids are throwing up after your nuggets, we're at the hospital now", POISONING),
    ("there was glass in my daughter's yoghurt https://imgur.com/a/x1", POISONING),
    ("someone spiked my drink at your bar on Friday and my friend collapsed", POISONING),
    ("ich geh morgen in euren Laden und werde alle abstechen", VIOLENCE),
    ("plusieurs clients blessés dans l'effondrement du rayon", INJURY),
    ("hay dos heridos en la tienda tras la explosión", INJURY),
    ("my toddler swallowed a button battery from your toy", POISONING),
    ("ma fille a été intoxiquée par vos plats préparés, on est aux urgences", POISONING),
    ("toda la familia intoxicada con su pollo", POISONING),
    ("Lebensmittelvergiftung nach eurem Döner, zwei Kinder in der Notaufnahme", POISONING),
    ("your delivery van hit a child on Elm Road this morning", INJURY),
    ("I was hit by your delivery driver on the crossing", INJURY),
    ("the charger you sold me exploded in my hand, second-degree burns", INJURY),
    ("votre livreur a renversé une cycliste devant chez moi", INJURY),
    ("mon fils s'est fait renverser par un de vos camions", INJURY),
    ("la batería del patinete explotó en la cara de mi hijo", INJURY),
    ("Der Akku ist explodiert, meine Tochter hat Verbrennungen an der Hand", INJURY),
    ("my dad's insulin pump stopped delivering overnight, he's in a bad way", DEVICE),
    ("the pacemaker monitor keeps failing and nobody answers", DEVICE),
    ("le concentrateur d'oxygène de ma mère est tombé en panne cette nuit", DEVICE),
    ("mi bomba de insulina dejó de funcionar", DEVICE),
    ("Die Insulinpumpe ist ausgefallen und die Hotline antwortet nicht", DEVICE),
    ("your employee posted my home address on Facebook", DOXXING),
    ("he doxxed the cashier, her address is all over Twitter now", DOXXING),
    ("ils ont publié mon adresse et les photos de mes enfants", DOXXING),
    ("publicaron mi dirección y mi teléfono en un grupo", DOXXING),
    ("Meine Adresse wurde im Forum veröffentlicht", DOXXING),
]

IDIOMS = [
    "je suis morte de rire",
    "mdr je suis mort de rire 😂😂",
    "une tuerie",
    "c'est une tuerie ce burger",
    "this traffic is killing me",
    "killer deal on the new tulips",
    "I'm dead 😂",
    "me muero de risa",
    "ich sterbe vor Lachen",
    "mdr je vais me tuer à la tâche cette semaine",
    "this price is criminal",
    "dying to try the new menu",
    "I could kill for a coffee right now",
    "bomb deal on roses today",
    "shoot me a DM with the price",
    "this song slaps",
    "the new menu is fire 🔥",
    "this cake is literally to die for 😭😭",
    "your croissants are the bomb",
    "I killed it at the interview thanks to your coffee",
    "kms lol this queue",
    "5 kms from the shop and still no delivery",
    "ça me tue ce prix",
    "ce gâteau c'est de la bombe",
    "me mato a trabajar para pagar vuestros precios",
    "das bringt mich noch um, diese Warteschlange",
    "Bombenangebot! Danke",
    "stabbed in the back by your loyalty programme",
    "I'm not going to be here next week, can you deliver to my neighbour instead?",
    "I won't be home tomorrow, please leave the parcel with the neighbour",
    "I won't be here next week, can you deliver to my neighbour?",
    "je ne serai pas là demain pour la livraison, laissez le colis au voisin",
    "gonna shoot you an email tomorrow about the order",
    "I will kill you lol if you sell out of pistachio",
    "killing myself at the gym for summer",
    "drowning myself in coffee this morning",
    "shooting myself in the foot by not ordering earlier",
    "no reason to live without your croissants",
    "dropping a bomb in the comments: best bakery in town",
    "does this have nuts? I don't want an allergic reaction",
    "voici l'adresse de livraison : 12 rue des Lilas",
    "aquí está la dirección de entrega",
    "hier ist Ihre Bestellnummer",
    "that was a bad burn lol",
    "le joueur est blessé, on perd le match",
    "me siento herida por su respuesta",
    "kmsl this ad",
    "I can't go on anymore with this wifi",
    "I'm going to end it with your company, cancelling today",
    "I took 2 pills of ibuprofen and the headache is gone",
    "je vais me noyer dans le boulot cette semaine",
    "je vais me jeter sur vos croissants demain",
    "suicide wings were amazing",
    "je vais planter vos bulbes ce week-end",
    "threatened me with a bad review, what a customer",
    "Vous êtes morts ou quoi ? 2h d'attente",
    "pour en finir avec ce dossier, remboursez-moi",
    "j'ai plus envie de vivre ça, changez de livreur",
    "ich werde mich um die Bestellung kümmern",
    "my post blew up overnight, thanks for the shoutout",
    "my mom is in hospital, can you deliver the bouquet to room 12?",
    "the flowers are going to die before Valentine's",
]


@pytest.mark.parametrize("text", SELF_HARM_POSTS)
def test_self_harm_is_crisis_with_the_self_harm_code_first(text: str) -> None:
    assert codes(text)[:1] == [SELF_HARM]
    verdict = classify(post(text))
    assert verdict.label == Label.CRISIS
    assert verdict.reasons[0].code == SELF_HARM and verdict.reasons[0].detail
    assert verdict.safety[0] == SELF_HARM


@pytest.mark.parametrize(("text", "code"), CATEGORY_POSTS)
def test_each_category_is_crisis_with_its_code(text: str, code: str) -> None:
    assert code in codes(text)
    verdict = classify(post(text))
    assert verdict.label == Label.CRISIS and code in verdict.safety
    assert [r.code for r in verdict.reasons[: len(verdict.safety)]] == verdict.safety


def _without_accents(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


@pytest.mark.parametrize("decorate", [
    lambda t: f"@Floralys {t} https://t.co/Qx8Lm2Zr #aide",
    lambda t: f"{t.upper()}!!!",
    lambda t: _without_accents(t).replace("'", "’"),
    lambda t: f"RT @news_bot: {t} 😢😢 pic.twitter.com/a1b2c3",
], ids=["handle-link-hashtag", "shouting", "no-accents-curly-apostrophes", "retweet-emoji-photo"])
def test_platform_decorations_do_not_hide_a_hit(decorate: object) -> None:
    for text, code in [(t, SELF_HARM) for t in SELF_HARM_POSTS] + CATEGORY_POSTS:
        decorated = decorate(text)  # type: ignore[operator]
        assert code in codes(decorated), decorated


def test_decorated_idioms_stay_unflagged() -> None:
    for text in IDIOMS:
        for decorated in (f"@Floralys {text} https://t.co/Qx8Lm2Zr #lol", _without_accents(text).upper()):
            assert codes(decorated) == [], decorated


@pytest.mark.parametrize("text", IDIOMS)
def test_idioms_are_not_flagged(text: str) -> None:
    assert codes(text) == []
    verdict = classify(post(text))
    assert verdict.safety == []
    assert "decision.safety_net" not in [r.code for r in verdict.reasons]


@pytest.mark.parametrize("text", ["je suis morte de rire", "this traffic is killing me", "c'est une tuerie ce burger",
                                  "me muero de risa", "ich sterbe vor Lachen", "I could kill for a coffee right now"])
def test_idioms_the_model_calls_harmless_stay_out_of_crisis(text: str) -> None:
    verdict = classify(post(text))
    assert verdict.label != Label.CRISIS, verdict.reasons


@pytest.mark.parametrize(("text", "code"), [
    ("mdr je suis morte de rire... non en vrai je vais me suicider ce soir", SELF_HARM),
    ("this traffic is killing me and honestly I'm going to kill myself tonight", SELF_HARM),
    ("c'est une tuerie ce burger mais je vais vous planter si vous fermez", VIOLENCE),
    ("me muero de risa, pero te voy a matar cuando salgas", VIOLENCE),
    ("Bombenangebot, aber ich komme morgen mit einer Waffe vorbei", VIOLENCE),
])
def test_an_idiom_does_not_hide_a_real_threat(text: str, code: str) -> None:
    assert code in codes(text)
    assert classify(post(text)).label == Label.CRISIS


def test_the_safety_net_overrides_a_model_that_says_normal() -> None:
    # A classifier without a model and without rules knows nothing: only the safety net can make it crisis.
    bare = Classifier(None)
    verdict = bare.classify(post("Ich bringe mich heute Nacht um"))
    assert verdict.label == Label.CRISIS and verdict.safety == [SELF_HARM]
    assert [r.code for r in verdict.reasons][:2] == [SELF_HARM, "decision.safety_net"]
    assert "rule.none" not in [r.code for r in verdict.reasons]


def test_several_categories_are_listed_most_urgent_first() -> None:
    text = "your van hit my son and now I want to kill myself"
    assert codes(text) == [SELF_HARM, INJURY]
    verdict = classify(post(text))
    assert verdict.safety == [SELF_HARM, INJURY]
    assert [r.code for r in verdict.reasons][:2] == [SELF_HARM, INJURY]


@pytest.mark.parametrize(("text", "first_reason"), [
    ("😀" * 1000, None),
    ("مرحبا، طلبي لم يصل بعد", None),
    ("Привет, где мой заказ? Я жду уже неделю", None),
    ("", "post.empty_text"),
    ("   \u200b  ", "post.empty_text"),
    ("я убью себя", None),
    ("\ud800 kill myself", SELF_HARM),
    ("kill myself " * 600, SELF_HARM),
])
def test_odd_inputs_give_a_verdict_with_a_reason(text: str, first_reason: str | None) -> None:
    verdict = classify(post(text))
    assert verdict.reasons
    if first_reason is not None:
        assert verdict.reasons[0].code == first_reason


def test_adversarial_text_is_checked_without_blowup() -> None:
    # Shapes that would backtrack badly under a nested quantifier; the structural test below is the real guard.
    for text in ["i " * 3000, "je vais " * 800, "a" * 4000, "kill " * 900 + "my", "bring mich " * 500]:
        check_text(text)


def _children(op: object, arg: object) -> list[object]:
    """The sub-trees of one parsed node (a group, a branch, a look-around); none for a leaf."""
    if op == sre_constants.SUBPATTERN:
        return [arg[-1]]  # type: ignore[index]
    if op == sre_constants.BRANCH:
        return list(arg[1])  # type: ignore[index]
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [arg[1]]  # type: ignore[index]
    return []


def _nested_unbounded(tree: object, inside: bool = False) -> bool:
    for op, arg in tree:  # type: ignore[attr-defined]
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            unbounded = arg[1] == sre_constants.MAXREPEAT
            if (unbounded and inside) or _nested_unbounded(arg[2], inside or unbounded):
                return True
        elif any(_nested_unbounded(child, inside) for child in _children(op, arg)):
            return True
    return False


def test_no_pattern_nests_unbounded_repeats() -> None:
    patterns = [SAFETY_NET.idioms] + [p for c in SAFETY_NET.categories for p in (c.direct, c.indirect, c.guards)]
    for pattern in patterns:
        if pattern is not None:
            assert not _nested_unbounded(sre_parse.parse(pattern.pattern)), pattern.pattern[:200]


def test_the_probe_finds_a_nested_repeat() -> None:
    assert _nested_unbounded(sre_parse.parse("(?:a+ )*b"))
    assert not _nested_unbounded(sre_parse.parse("(?:[^ ]+ ){0,3}b"))


def test_every_category_has_a_sentence_and_self_harm_comes_first() -> None:
    assert SAFETY_CODES[0] == SELF_HARM
    assert set(SAFETY_CODES) == {SELF_HARM, VIOLENCE, POISONING, INJURY, DEVICE, DOXXING}
    assert all(describe(code) for code in SAFETY_CODES)
    assert set(CASE_SCHEMA["properties"]["safety"]["items"]["enum"]) == set(SAFETY_CODES)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "safety.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_broken_lexicon_fails_at_load(tmp_path: Path) -> None:
    data = json.loads(SAFETY_FILE.read_text(encoding="utf-8"))
    data["categories"][1]["patterns"]["en"].append("<no_such_macro> gun")
    with pytest.raises(ValueError, match="unknown macro"):
        load_safety_net(_write(tmp_path, data))
    data = json.loads(SAFETY_FILE.read_text(encoding="utf-8"))
    data["categories"].reverse()
    with pytest.raises(ValueError, match="must come first"):
        load_safety_net(_write(tmp_path, data))
    data = json.loads(SAFETY_FILE.read_text(encoding="utf-8"))
    data["categories"][0]["patterns"]["en"].append("Kill Myself")
    with pytest.raises(ValueError, match="lower case"):
        load_safety_net(_write(tmp_path, data))


# --------------------------------------------------------------------- helplines and the suggested reply

def self_harm_case(language: str | None, brand: str | None = None, safety: list[str] | None = None) -> Case:
    verdict = Verdict(label=Label.CRISIS, scores={"spam": 0, "complaint": 0, "crisis": 1, "normal": 0},
                      language=language, safety=[SELF_HARM] if safety is None else safety)
    from moderato.triage.cases import build_case

    return build_case(post("x", brand), verdict, route(Label.CRISIS, NOW, SlaPolicy()), NOW)


@pytest.mark.parametrize(("language", "brand", "numbers"), [
    ("fr", "Floralys", ["3114", "112"]),
    ("fr", None, ["3114"]),
    ("en", None, ["988", "911"]),
    ("es", None, ["024", "112"]),
    ("de", None, ["0800 111 0 111", "0800 111 0 222", "112"]),
    (None, "Floralys", ["3114"]),
    ("mixed", None, ["988"]),
])
def test_the_reply_gives_the_helplines_of_the_country(language: str | None, brand: str | None,
                                                      numbers: list[str]) -> None:
    reply = suggested_reply(self_harm_case(language, brand))
    assert reply is not None
    for number in numbers:
        assert number in reply


def test_a_brand_country_and_a_language_override_pick_the_lines() -> None:
    config = default_helplines().model_copy(deep=True)
    config.brands["Acme UK"] = config.brands["Floralys"].model_copy(update={"country": "GB"})
    assert "116 123" in config.reply("Acme UK", "en")
    assert "999" in config.reply("Acme UK", "en")
    assert "3114" in config.reply("Floralys", "fr")
    assert "988" in config.reply("Floralys", "en")  # an English post to a French brand: the language's default


def test_only_self_harm_gets_a_reply() -> None:
    assert suggested_reply(self_harm_case("en", safety=[VIOLENCE])) is None
    assert suggested_reply(self_harm_case("en", safety=[])) is None


def test_the_helpline_file_is_validated_at_load(tmp_path: Path) -> None:
    data = json.loads((Path(__file__).parents[3] / "functions/moderato/config/helplines.json").read_text())
    assert isinstance(HelplineConfig.model_validate(data), HelplineConfig)
    data["brands"]["Ghost"] = {"country": "ZZ"}
    path = tmp_path / "helplines.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="ZZ"):
        load_helplines(path)
    data["brands"].pop("Ghost")
    data["templates"]["fr"] = "Appelez-nous."
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="lines"):
        load_helplines(path)
    data["templates"]["fr"] = "{lines} {emergency}"
    data["countries"]["FR"]["lines"][0]["number"] = "call us"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_helplines(path)


# --------------------------------------------------------------------- triage: case, queue message, alert text

class _Cases:
    def __init__(self) -> None:
        self.stored: list[Case] = []

    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        self.stored.append(case)
        return case, True

    def existing(self, case_ids: list[str]) -> dict[str, Case]:
        return {}

    def create_many(self, new: list[tuple[Case, datetime | None]]) -> set[str]:
        self.stored.extend(case for case, _ in new)
        return {case.case_id for case, _ in new}


class _Sink:
    def __init__(self) -> None:
        self.cases: list[Case] = []

    def send(self, case: Case) -> str:
        self.cases.append(case)
        return "m"

    def send_many(self, cases: list[Case]) -> None:
        self.cases.extend(cases)

    def publish_crisis(self, case: Case) -> str:
        self.cases.append(case)
        return "a"


def test_triage_opens_a_crisis_case_with_a_reply_and_an_urgent_alert() -> None:
    queues, alerts = _Sink(), _Sink()
    service = TriageService(_Cases(), queues, alerts, classify, SlaPolicy(), clock=lambda: NOW)
    case = service.triage(post("@Floralys je vais me suicider ce soir, dites à mes enfants que je les aime",
                               brand="Floralys")).case
    assert case.label == Label.CRISIS and case.queue == "CrisisQueue" and case.priority == 1
    assert case.safety[0] == SELF_HARM and case.reasons[0].code == SELF_HARM
    assert case.suggested_reply and "3114" in case.suggested_reply
    assert [c.case_id for c in alerts.cases] == [case.case_id]
    message = case_message(case)
    assert_case_message(message)
    assert message["safety"][0] == SELF_HARM and "3114" in message["suggested_reply"]
    text = format_alert("crisis", json.dumps({"kind": "crisis_case", **message}))["text"]
    assert text.startswith(":sos: *URGENT: possible suicide or self-harm*")
    assert "3114" in text and "never automatic" in text


def test_other_crises_keep_the_usual_alert_and_no_reply() -> None:
    service = TriageService(_Cases(), _Sink(), _Sink(), classify, SlaPolicy(), clock=lambda: NOW)
    case = service.triage(post("there's a guy with a knife in your store right now")).case
    assert case.label == Label.CRISIS and case.safety == [VIOLENCE] and case.suggested_reply is None
    text = format_alert("crisis", json.dumps({"kind": "crisis_case", **case_message(case)}))["text"]
    assert text.startswith(":rotating_light: *Crisis*") and "suggested reply" not in text


def test_a_message_without_the_new_fields_still_formats() -> None:
    text = format_alert("crisis", json.dumps({"kind": "crisis_case", "case_id": "c1", "post": {"text": "x"}}))["text"]
    assert text.startswith(":rotating_light: *Crisis*")


def test_the_classify_cli_prints_the_safety_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from moderato_cli.main import main

    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"id": "p", "text": "Ich bringe mich heute Nacht um"}) + "\n", encoding="utf-8")
    assert main(["classify", str(path)]) == 0
    [line] = [json.loads(out) for out in capsys.readouterr().out.splitlines()]
    assert line["label"] == "crisis"
    assert line["reasons"][0]["code"] == SELF_HARM and re.search("suicide", line["reasons"][0]["message"])


def test_review_show_prints_the_safety_codes_and_the_reply() -> None:
    from rich.console import Console

    from moderato_cli.commands.review import print_detail

    service = TriageService(_Cases(), _Sink(), _Sink(), classify, SlaPolicy(), clock=lambda: NOW)
    case = service.triage(post("I am going to kill myself tonight")).case
    console = Console(record=True, width=400)
    print_detail({"case": case.model_dump(mode="json"), "history": []}, console, NOW)
    shown = console.export_text()
    assert f"safety: {SELF_HARM}" in shown
    assert "nothing is sent automatically" in shown and "988" in shown


# Conjugated and colloquial forms: the safety net once listed mostly infinitives and missed these.
CONJUGATED_SELF_HARM = [
    "me voy a quitar la vida", "me quiero matar", "voy a tomar todas las pastillas", "me voy a tirar del puente",
    "me voy a tirar por la ventana", "hoy me mato, adios", "esta noche me tomo todas las pastillas",
    "ya me quito la vida", "me tiro del balcón esta noche",
    "tu ich mir was an", "ich nehm alle tabletten", "ich spring von der brücke", "ich will nich mehr leben",
    "ich häng mich heute auf", "ich werf mich vor den nächsten zug", "ich schneide mir die pulsadern auf",
    "ich hab alle meine schlaftabletten genommen", "ich mach heute schluss mit allem", "heute tu ich mir etwas an",
    "i have the pills lined up on the table https://t.co/aB3dE", "i have the pills ready", "took 40 tylenol",
    "lol kms. no seriously i have the rope ready", "i wanna dye", "honestly thinking about suicide again",
    "je v me tuer franchement", "jv me tuer ce soir", "j'ai pris 30 cachets", "ce soir je me tue",
    "ich nehm mir heute das leben", "ich erhäng mich", "ich spring vor den zug",
]

CONJUGATED_CRISES = [
    ("me muero de risa jaja pero mañana voy a la tienda y los mato a todos", VIOLENCE),
    ("ich stech dich ab", VIOLENCE),
    ("ich komm mit ner knarre vorbei", VIOLENCE),
    ("this driver is killing me, he's hitting me, help", VIOLENCE),
    ("someone got stabbed in your Brixton store", VIOLENCE),
    ("un tipo con un cuchillo dijo que iba a matar al encargado", VIOLENCE),
    ("je le plante au couteau ce connard", VIOLENCE),
    ("hay un hombre con un cuchillo dentro de la tienda", VIOLENCE),
    ("einer hat mit nem messer rumgefuchtelt in eurer filiale", VIOLENCE),
    ("he punched me in the face at your store", VIOLENCE),
    ("jte bute sale con", VIOLENCE),
    ("he's killing me, help", VIOLENCE),  # the "killing me" idiom never hides a cry for help
    ("my pacemaker keeps shocking me and i feel dizzy", DEVICE),
    ("@Omnipod my pump stopped delivering insulin overnight, now in DKA", DEVICE),
    # Precedence: the category that names the cause comes before "at the ER" or "passed out".
    ("ma fille s'est ouvert le crâne, on est aux urgences", INJURY),
    ("my Dexcom didn't alarm and I passed out", DEVICE),
]

LOOK_ALIKES = [
    "me mato a trabajar para pagar vuestras tarifas", "me voy a tirar a la piscina con esta oferta",
    "esta noche me tomo todas las pastillas de la receta", "ich häng mich nicht an dem detail auf",
    "ich mach schluss mit dir", "ich nehme alle tabletten wie verordnet", "i wanna dye my hair pink",
    "took 2 tylenol", "i have the pills ready for pickup at the pharmacy", "i donated to suicide prevention week",
    "the ads keep hitting me with ads", "je v me plaindre à la direction", "mach die folie ab",
    "ich schlag dich beim tennis", "your prices are killing me", "je me tue à la tâche", "jte plante des fleurs",
    "cette nuit je me jette dans mon lit lol", "this heat is killing me, help lol",
]


@pytest.mark.parametrize("text", CONJUGATED_SELF_HARM)
def test_conjugated_and_sms_self_harm_is_caught(text: str) -> None:
    assert codes(text)[:1] == [SELF_HARM]
    assert classify(post(text)).label == Label.CRISIS


@pytest.mark.parametrize(("text", "code"), CONJUGATED_CRISES)
def test_conjugated_crises_get_the_category_that_names_the_cause(text: str, code: str) -> None:
    assert codes(text)[:1] == [code]
    assert classify(post(text)).label == Label.CRISIS


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_new_forms_stay_unflagged(text: str) -> None:
    assert codes(text) == []


@pytest.mark.parametrize("text", [
    "I'm going to kill myself", "I will end my life", "je vais mettre fin a mes jours", "je vais me suicider",
    "voy a quitarme la vida", "me quiero matar", "no quiero seguir viviendo", "ich will nicht mehr leben",
    "ich will mir das leben nehmen", "I'll kill you all", "os voy a matar", "je vais vous tuer",
])
def test_a_first_person_threat_rule_phrase_also_fires_the_safety_net(text: str) -> None:
    verdict = classify(post(text))
    assert "rule.crisis.threat" in {r.code for r in verdict.reasons} or verdict.safety
    assert verdict.safety and verdict.label == Label.CRISIS


def test_training_posts_are_not_flagged_by_the_safety_net() -> None:
    root = Path(__file__).resolve().parents[3] / "training" / "data"
    flagged = [row["text"] for path in sorted(root.glob("authored_*.jsonl"))
               for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
               if row["label"] != "crisis" and check_text(row["text"])]
    assert len(flagged) <= 2, flagged


@pytest.mark.parametrize("text", ["أريد أن أقتل نفسي", "Привет, где мой заказ? Я жду уже неделю", "我的订单在哪里",
                                  "@Floralys أريد أن أقتل نفسي"])
def test_a_script_the_classifier_cannot_read_goes_to_a_human_not_to_normal(text: str) -> None:
    verdict = classify(post(text))
    assert verdict.reasons[0].code == "input.unsupported_script"
    assert verdict.label == Label.COMPLAINT
    assert describe("input.unsupported_script")


@pytest.mark.parametrize(("text", "flagged"), [
    ("Привет, где мой заказ? order 12345", False),  # whole words in Cyrillic: another language
    ("Ζήτω η Ελλάδα, ok", False),
    ("frее gift card", True),  # a Cyrillic "е" inside a Latin word: the trick
    ("реrfect dеal", True),
])
def test_only_words_that_mix_scripts_are_homoglyphs(text: str, flagged: bool) -> None:
    norm = normalize(text)
    assert ("homoglyphs" in norm.flags) is flagged
    if not flagged:
        assert any(not ch.isascii() for ch in norm.folded)  # left as written, not folded to Latin gibberish
