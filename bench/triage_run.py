"""Run the real triage handler in process against moto, with every AWS call counted (bench/aws_meter.py).

Shared by ``bench_triage`` (calls and capacity per post) and ``cost`` (USD per million posts). The
resources come from template.yaml through the local stack's provisioner, as in the integration tests,
so a change of indexes or projections in the template changes the figures.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "functions", REPO / "infra", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# Real shapes: what community managers receive, in their languages, with handles, links and typos.
TEXTS = (
    "Ma commande n'est jamais arrivée, commande 4471, et le service client ne répond pas",
    "Toujours pas recu mon bouquet pour l'anniversaire de ma mere, c'est une honte @Floralys",
    "Gagnez un iPhone 15 !!! cliquez vite https://t.co/xY7pQ2 avant minuit #concours #gratuit",
    "Merci pour les roses, elles sont magnifiques 😍",
    "mon fils a fait une réaction allergique grave à vos lys, on est à l'hôpital",
    "Hello do you deliver to Lyon on sundays? need flowers for my grandma",
    "Suivez moi pour plus de contenu crypto, je double vos gains en 24h https://bit.ly/aXkPq",
    "Livraison prévue aujourd'hui, colis toujours pas arrivé, aucune nouvelle du livreur",
    "Quel est le code promo de la fete des meres ? merci d'avance",
    "Bonjour, j'ai été débité deux fois pour la commande 5582, remboursez moi svp",
)


@dataclass
class BatchResult:
    posts: int
    seconds: float  # wall time of the handler, moto included
    aws_seconds: float  # of which inside AWS calls (moto, in process)
    log_bytes: int  # what the handler wrote to stdout (Powertools logs and EMF metrics: CloudWatch Logs)
    failures: int


def _environment() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "moderato",
            "POWERTOOLS_METRICS_NAMESPACE": "Moderato", "POWERTOOLS_LOG_LEVEL": "INFO"}


class _Context:
    function_name, function_version, memory_limit_in_mb = "triage", "$LATEST", 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:triage"
    aws_request_id, log_group_name, log_stream_name = "bench", "/aws/lambda/triage", "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class _Counting(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)


@contextlib.contextmanager
def triage_under_moto() -> Iterator[tuple[Any, Any]]:
    """(triage module, meter): the handler imported fresh against a moto account built from template.yaml."""
    import boto3
    from moto import mock_aws

    from bench.aws_meter import AwsMeter

    saved = dict(os.environ)
    os.environ.update(_environment())
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            from moderato_local.provision import Provisioner
            from moderato_local.resolver import REGION, Resolver
            from moderato_local.template import Template
            from tests.support import LOCAL_SECRETS

            template = Template.load(REPO / "template.yaml")
            resolver = Resolver(template)
            Provisioner(template, resolver, lambda service: boto3.client(service, region_name=REGION),
                        LOCAL_SECRETS, "http://127.0.0.1:8787").run()
            for spec in template.functions():
                for name, value in spec.environment.items():
                    os.environ[name] = str(resolver.resolve(value))
            boto3.setup_default_session(region_name=REGION)
            meter = AwsMeter()
            meter.attach(boto3.DEFAULT_SESSION, REGION)
            yield _fresh_triage(), meter
    finally:
        os.environ.clear()
        os.environ.update(saved)
        import boto3 as _boto3
        _boto3.DEFAULT_SESSION = None


def _fresh_triage() -> Any:
    import importlib

    import moderato.adapters.aws
    import moderato.settings

    moderato.adapters.aws.client.cache_clear()
    moderato.settings.triage_settings.cache_clear()
    sys.modules.pop("triage", None)
    with contextlib.redirect_stdout(_Counting()):
        return importlib.import_module("triage")


def sqs_event(texts: tuple[str, ...], batch: int) -> dict[str, Any]:
    """One SQS batch of single-post deliveries (a Facebook comment or a mention on X each)."""
    from moderato.models import Delivery
    from tests.support import encode, meta_comment, x_tweet

    records = []
    for index, text in enumerate(texts):
        n = batch * 100 + index
        payload = (meta_comment(text, comment_id=f"712750021053074_{1063824911537000 + n}",
                                author_id=str(24266381753000000 + n)) if index % 2 == 0
                   else x_tweet(text, tweet_id=str(1234567000 + n), user_id=str(987654000 + n)))
        platform = "meta" if index % 2 == 0 else "x"
        delivery = Delivery(platform=platform, received_at=datetime.now(UTC), request_id=str(uuid.uuid4()),
                            body=encode(payload).decode())
        records.append({
            "messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": delivery.model_dump_json(),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1707211879000", "SenderId": "bench",
                           "ApproximateFirstReceiveTimestamp": "1707211879000"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:IngestQueue", "awsRegion": "eu-west-1"})
    return {"Records": records}


def run_batch(triage: Any, meter: Any, event: dict[str, Any]) -> BatchResult:
    sink = _Counting()
    aws_before, overhead_before = meter.aws_seconds, meter.overhead_seconds
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        response = triage.lambda_handler(event, _Context())
    seconds = time.perf_counter() - start - (meter.overhead_seconds - overhead_before)
    return BatchResult(posts=len(event["Records"]), seconds=seconds, aws_seconds=meter.aws_seconds - aws_before,
                       log_bytes=sink.bytes, failures=len(response.get("batchItemFailures", [])))
