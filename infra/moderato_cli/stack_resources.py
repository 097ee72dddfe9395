"""Where a stack's queues and tables are, for the operator commands (reconcile, dlq, load).

Locally (``--local``) names follow the local stack's convention (``moderato-local-<LogicalId>``) and the
embedded AWS endpoint is asked from the running stack; a deployed stack's names come from
CloudFormation (``--stack``). The template says which queue is whose dead-letter queue.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from moderato_cli.commands.export_feedback import DEFAULT_LOCAL_API, LOCAL_CREDENTIALS, local_aws_endpoint
from moderato_cli.paths import TEMPLATE
from moderato_local.provision import physical_name
from moderato_local.resolver import Resolver
from moderato_local.template import Template

_CONFIG = Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
# FilterLogEvents allows a few calls a second per account: reconcile pages through days of access log,
# so a throttled page waits and retries rather than failing the whole run.
_SERVICE_CONFIG = {"logs": Config(connect_timeout=3, read_timeout=60, retries={"max_attempts": 10, "mode": "adaptive"})}


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local", action="store_true",
                        help="the running local stack (its embedded AWS endpoint is asked from --api)")
    parser.add_argument("--stack", default=os.environ.get("MODERATO_STACK", "moderato"),
                        help="deployed stack name (default MODERATO_STACK or %(default)s)")
    parser.add_argument("--api", default=os.environ.get("MODERATO_API", DEFAULT_LOCAL_API),
                        help="with --local: the local stack's HTTP API (default %(default)s)")
    parser.add_argument("--aws-endpoint", default=os.environ.get("MODERATO_AWS_ENDPOINT"),
                        help="AWS endpoint (default: AWS itself; with --local: the one the stack reports)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str
    source: str  # the queue it receives from, or the function whose failed invocations it keeps
    source_is_function: bool


def dead_letter_queues(template: Template) -> dict[str, DeadLetterQueue]:
    """Every DLQ the template declares: SQS redrive targets and functions' on-failure destinations."""
    found: dict[str, DeadLetterQueue] = {}
    for logical_id in template.of_type("AWS::SQS::Queue"):
        target = _get_att_id((template.properties(logical_id).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        if target:
            found[target] = DeadLetterQueue(target, logical_id, False)
    for spec in template.functions():
        config = spec.properties.get("EventInvokeConfig") or {}
        on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {})
        target = _get_att_id(on_failure.get("Destination")) if on_failure.get("Type") == "SQS" else None
        if target:
            found[target] = DeadLetterQueue(target, spec.logical_id, True)
    return dict(sorted(found.items()))


def _get_att_id(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


@dataclass
class StackResources:
    local: bool
    stack: str
    options: dict[str, Any]
    template: Template = field(default_factory=lambda: Template.load(TEMPLATE))
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StackResources:
        options: dict[str, Any] = {"region_name": args.region or "eu-west-1"}
        if args.local:
            options.update(endpoint_url=args.aws_endpoint or local_aws_endpoint(args.api), **LOCAL_CREDENTIALS)
        elif args.aws_endpoint:
            options["endpoint_url"] = args.aws_endpoint
        return cls(bool(args.local), args.stack, options)

    @property
    def where(self) -> str:
        return str(self.options.get("endpoint_url") or f"stack {self.stack} ({self.options['region_name']})")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, config=_SERVICE_CONFIG.get(service, _CONFIG),
                                                  **self.options)
        return self._clients[service]

    def physical_id(self, logical_id: str) -> str:
        """A table's name, a queue's URL or a log group's name (what CloudFormation's Ref gives)."""
        if self.local:
            name = physical_name(logical_id)
            if self.template.resources[logical_id]["Type"] == "AWS::Logs::LogGroup":
                # The template names its log groups (!Sub with the stack name), as the provisioner does.
                explicit = self.template.properties(logical_id).get("LogGroupName")
                return physical_name(logical_id, Resolver(self.template).resolve(explicit) if explicit else None)
            if self.template.resources[logical_id]["Type"] == "AWS::SQS::Queue":
                return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])
            return name
        detail = self.client("cloudformation").describe_stack_resource(StackName=self.stack,
                                                                       LogicalResourceId=logical_id)
        return str(detail["StackResourceDetail"]["PhysicalResourceId"])

    def dead_letter_queues(self) -> dict[str, DeadLetterQueue]:
        return dead_letter_queues(self.template)
