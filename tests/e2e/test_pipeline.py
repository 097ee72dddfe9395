"""End to end over HTTP: signed deliveries into the local stack, cases out of the right queues.

The stack is the real thing run locally: moto server provisioned from template.yaml, the gateway
turning requests into API Gateway v2 events for the real handlers, and SQS pollers with Lambda's
batch semantics feeding triage.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from moderato.platforms.x import crc_response_token
from tests.support import LOCAL_SECRETS, assert_case_message, encode, meta_comment, signed_headers, x_tweet

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
REVIEW_QUEUES = ("SPAM_QUEUE_URL", "COMPLAINT_QUEUE_URL", "CRISIS_QUEUE_URL")


def drain(stack: Any, env_name: str) -> list[dict[str, Any]]:
    """Every case message currently in a review queue (consumed, as a review consumer would)."""
    sqs, url, found = stack.client("sqs"), stack.environment[env_name], []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


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
    assert_case_message(message)
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
    response = requests.get(f"{stack.gateway_url}/webhooks/x", params={"crc_token": "e2e-token"}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"response_token": crc_response_token(LOCAL_SECRETS["x"]["consumer_secret"], "e2e-token")}


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
