"""End to end over HTTP: signed deliveries into the local stack, cases out of the right queues.

The stack is the real thing run locally: moto server provisioned from template.yaml, the gateway
turning requests into API Gateway v2 events for the real handlers, and SQS pollers with Lambda's
batch semantics feeding triage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from moderato.adapters.case_store import CaseStore
from moderato.models import Delivery
from moderato.platforms.base import DeliveryContext
from moderato.platforms.meta import MetaPlatform
from moderato.triage.cases import case_id_for
from tests.support import (
    CASE_QUEUES,
    LOCAL_SECRETS,
    QUEUE_FOR_LABEL,
    drain_case_queue,
    encode,
    meta_comment,
    signed_headers,
    x_tweet,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
REVIEW_QUEUES = tuple(CASE_QUEUES)


def drain(stack: Any, env_name: str) -> list[dict[str, Any]]:
    """Every case message currently in a review queue (consumed, as a review consumer would).

    Each one is validated against the moderato.case/v1 schema and the queue it was read from.
    """
    return drain_case_queue(stack.client("sqs"), stack.environment[env_name], CASE_QUEUES[env_name])


def depths(stack: Any) -> dict[str, int]:
    sqs, result = stack.client("sqs"), {}
    for name in ("INGEST_QUEUE_URL", *REVIEW_QUEUES):
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.environment[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        result[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"])
    return result


def post_meta(stack: Any, payload: dict, headers: dict | None = None) -> requests.Response:
    body = encode(payload)
    headers = {"Content-Type": "application/json", **(headers if headers is not None else signed_headers("meta", body))}
    return requests.post(f"{stack.gateway_url}/webhooks/meta", data=body, headers=headers, timeout=10)


@pytest.fixture
def stack(local_stack: Any) -> Any:
    assert local_stack.wait_idle(30)
    for name in REVIEW_QUEUES:
        drain(local_stack, name)
    return local_stack


def test_health_answers_when_ready(stack: Any) -> None:
    response = requests.get(f"{stack.gateway_url}/health", timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_signed_meta_complaint_lands_in_the_complaint_queue(stack: Any) -> None:
    comment_id = f"1_{uuid.uuid4().int % 10**15}"
    payload = meta_comment("Bonjour, ma commande n'est jamais arrivée et personne ne répond. Remboursez-moi.",
                           comment_id=comment_id)
    assert post_meta(stack, payload).status_code == 200
    assert stack.wait_idle(30)
    [message] = [m for m in drain(stack, "COMPLAINT_QUEUE_URL") if m["post"]["post_id"] == comment_id]
    assert message["label"] == "complaint" and message["post"]["brand"] == "Floralys"


def test_signed_x_crisis_lands_in_the_crisis_queue(stack: Any) -> None:
    tweet_id = str(uuid.uuid4().int % 10**18)
    body = encode(x_tweet("@Floralys mon fils a fait une réaction allergique grave à vos lys, "
                          "nous sommes aux urgences. Retirez ces bouquets !", tweet_id=tweet_id))
    response = requests.post(f"{stack.gateway_url}/webhooks/x", data=body,
                             headers={"Content-Type": "application/json", **signed_headers("x", body)}, timeout=10)
    assert response.status_code == 200
    assert stack.wait_idle(30)
    [message] = [m for m in drain(stack, "CRISIS_QUEUE_URL") if m["post"]["post_id"] == tweet_id]
    assert message["label"] == "crisis" and message["priority"] == 1


def test_x_crc_over_http(stack: Any) -> None:
    # Given the local consumer secret, the answer X expects is computed here, independently of the code.
    secret = LOCAL_SECRETS["x"]["consumer_secret"].encode()
    digest = hmac.new(secret, b"e2e-token", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    # When X sends its challenge through the gateway
    response = requests.get(f"{stack.gateway_url}/webhooks/x", params={"crc_token": "e2e-token"}, timeout=5)
    # Then the JSON body carries exactly that token
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"response_token": expected}


def test_forged_signature_gets_401_and_leaves_every_queue_unchanged(stack: Any) -> None:
    before = depths(stack)
    forged = {"X-Hub-Signature-256": "sha256=" + "ab" * 32}
    response = post_meta(stack, meta_comment("Gagnez 1000€ sur Telegram"), forged)
    assert response.status_code == 401
    assert stack.wait_idle(10)
    assert depths(stack) == before


def test_the_same_delivery_posted_twice_yields_one_case(stack: Any) -> None:
    comment_id = f"1_{uuid.uuid4().int % 10**15}"
    payload = meta_comment("Colis arrivé cassé, commande 88213, je veux un échange", comment_id=comment_id)
    assert post_meta(stack, payload).status_code == 200
    assert post_meta(stack, payload).status_code == 200
    assert stack.wait_idle(30)
    matching = [m for name in REVIEW_QUEUES for m in drain(stack, name) if m["post"]["post_id"] == comment_id]
    assert len(matching) == 1


def test_unknown_platform_and_garbage(stack: Any) -> None:
    assert requests.post(f"{stack.gateway_url}/webhooks/myspace", data=b"{}", timeout=5).status_code == 404
    body = b"definitely not json"
    response = requests.post(f"{stack.gateway_url}/webhooks/meta", data=body, headers=signed_headers("meta", body),
                             timeout=5)
    assert response.status_code == 400



def _case_id_of(payload: dict[str, Any]) -> str:
    [post] = MetaPlatform().parse(payload, DeliveryContext(received_at=datetime.now(UTC))).posts
    return case_id_for(post)


def test_a_delivery_triage_cannot_process_ends_in_the_ingest_dlq_and_nothing_else_is_lost(stack: Any) -> None:
    sqs, run = stack.client("sqs"), uuid.uuid4().hex[:12]
    # Given a verified delivery whose body triage cannot parse, queued in one batch with a good one,
    bad = Delivery(platform="meta", received_at=datetime.now(UTC), request_id=f"bad-{run}", body="{not json")
    in_batch = meta_comment("Colis jamais livré, commande 55120, je veux être remboursée",
                            comment_id=f"1_{uuid.uuid4().int % 10**15}")
    good = Delivery(platform="meta", received_at=datetime.now(UTC), request_id=f"good-{run}",
                    body=encode(in_batch).decode())
    sqs.send_message_batch(QueueUrl=stack.environment["INGEST_QUEUE_URL"], Entries=[
        {"Id": "bad", "MessageBody": bad.model_dump_json()}, {"Id": "good", "MessageBody": good.model_dump_json()}])
    # and a good delivery sent meanwhile through the webhook
    via_webhook = meta_comment("Bouquet arrivé fané, commande 55121, c'est inadmissible",
                               comment_id=f"1_{uuid.uuid4().int % 10**15}")
    assert post_meta(stack, via_webhook).status_code == 200

    # When the pollers and triage have done all they will do (retries included)
    assert stack.wait_idle(90), "IngestQueue never drained"

    # Then the bad delivery waits in IngestDLQ, unchanged for a redrive, set aside at its first reading
    # (the same bytes would fail the same way maxReceiveCount times)
    dead = []
    while batch := sqs.receive_message(QueueUrl=stack.resources["IngestDLQ"], MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", []):
        for message in batch:
            if Delivery.model_validate_json(message["Body"]).request_id.endswith(run):
                dead.append(message)
                sqs.delete_message(QueueUrl=stack.resources["IngestDLQ"], ReceiptHandle=message["ReceiptHandle"])
    assert [message["Body"] for message in dead] == [bad.model_dump_json()]
    # a message of its own in IngestDLQ, received once: by this test
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) == 1
    # And both good deliveries became one case each, in the queue their label implies
    queued = {CASE_QUEUES[name]: drain(stack, name) for name in REVIEW_QUEUES}
    store = CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))
    for payload in (in_batch, via_webhook):
        case = store.get(_case_id_of(payload))
        assert case is not None, "a good delivery was lost with the bad one"
        expected = QUEUE_FOR_LABEL[case.label.value]
        found = [queue for queue, bodies in queued.items() for body in bodies if body["case_id"] == case.case_id]
        assert case.queue == expected and found == ([expected] if expected else [])
