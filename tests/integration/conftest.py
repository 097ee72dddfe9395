"""Integration fixtures: the real handlers against moto, provisioned from template.yaml.

The resources and the functions' environment come from the template through the local stack's
provisioner, so these tests break when the template and the code disagree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from moderato_local.provision import Provisioner
from moderato_local.resolver import REGION, Resolver
from moderato_local.template import Template
from tests.support import CASE_QUEUES, LOCAL_SECRETS, REPO, assert_case_sqs_message


@dataclass
class AwsEnv:
    env: dict[str, str]
    resolver: Resolver

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def messages(self, env_name: str, wait: int = 0) -> list[dict[str, Any]]:
        """Drain every message from the queue whose URL is in ``env_name``.

        Messages of a review queue (SpamQueue, ComplaintQueue, CrisisQueue) are validated on the way
        against the moderato.case/v1 schema, with formats, and against the queue they were read from.
        """
        sqs = self.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            response = sqs.receive_message(QueueUrl=self.env[env_name], MaxNumberOfMessages=10,
                                           WaitTimeSeconds=wait, MessageAttributeNames=["All"],
                                           AttributeNames=["All"])
            batch = response.get("Messages", [])
            if not batch:
                return found
            if env_name in CASE_QUEUES:
                for message in batch:
                    assert_case_sqs_message(message, CASE_QUEUES[env_name])
            found.extend(batch)


def _function_env(template: Template, resolver: Resolver) -> dict[str, str]:
    env: dict[str, str] = {}
    for spec in template.functions():
        for name, value in spec.environment.items():
            env[name] = str(resolver.resolve(value))
    return env


def load_handler(name: str) -> Any:
    """Import a handler module afresh, as a new Lambda execution environment would."""
    from aws_lambda_powertools.utilities import parameters

    import moderato.actions.settings
    import moderato.adapters.aws
    import moderato.enrich.settings
    import moderato.review.settings
    import moderato.settings
    import moderato.webhook_settings

    moderato.adapters.aws.client.cache_clear()
    moderato.webhook_settings.webhook_settings.cache_clear()
    moderato.settings.triage_settings.cache_clear()
    moderato.review.settings.clear_caches()
    moderato.actions.settings.actions_settings.cache_clear()
    moderato.enrich.settings.enrich_settings.cache_clear()
    parameters.clear_caches()
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Moderato",
                        "POWERTOOLS_SERVICE_NAME": "moderato"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        template = Template.load(REPO / "template.yaml")
        resolver = Resolver(template)
        Provisioner(template, resolver, lambda service: boto3.client(service, region_name=REGION),
                    LOCAL_SECRETS, "http://127.0.0.1:8787").run()
        env = _function_env(template, resolver)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            yield AwsEnv(env, resolver)
        finally:
            # A test may hook the default session (count calls, inject a fault): never the next test's.
            boto3.DEFAULT_SESSION = None


class FakeContext:
    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:test-function"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()
