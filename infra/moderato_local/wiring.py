"""Wire every function event in the template to a local event source, or refuse to start.

An event type the local stack cannot emulate is a startup error naming the function and event:
a silently unwired consumer would make the local stack lie about what the system does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from moderato_local.pollers import (
    ASYNC_ATTEMPTS,
    FailureDestination,
    Poller,
    SchedulePoller,
    SnsPoller,
    SqsPoller,
    schedule_event_factory,
)
from moderato_local.resolver import ACCOUNT_ID, REGION, STACK_NAME, Resolver
from moderato_local.routes import Route, http_routes
from moderato_local.runtime import FunctionRuntime
from moderato_local.template import Template, TemplateError

log = logging.getLogger("moderato_local")

SUPPORTED_EVENT_TYPES = ("HttpApi", "SQS", "SNS", "Schedule", "ScheduleV2")


class Wired(NamedTuple):
    function: str  # logical id
    event: str  # event name in the template
    type: str
    detail: str


@dataclass
class Wiring:
    routes: list[Route] = field(default_factory=list)
    pollers: list[Poller] = field(default_factory=list)
    polled_queues: list[str] = field(default_factory=list)  # URLs that wait_idle watches
    wired: list[Wired] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def wire(
    template: Template,
    resolver: Resolver,
    functions: dict[str, FunctionRuntime],
    sqs: Any,
    sns: Any,
    retry_delay: int,
    schedule_seconds: float,
) -> Wiring:
    wiring = Wiring()
    for spec in template.functions():
        for event_name, event in spec.events.items():
            kind = event.get("Type")
            if kind not in SUPPORTED_EVENT_TYPES:
                raise TemplateError(
                    f"{spec.logical_id}.{event_name}: event type {kind!r} is not emulated by the local stack"
                )
    wiring.routes = http_routes(template)
    for route in wiring.routes:
        auth = f" (JWT authorizer {route.auth.authorizer})" if route.auth else ""
        wiring.wired.append(Wired(route.function_id, route.event_name, "HttpApi", route.route_key + auth))
    for spec in template.functions():
        function = functions[spec.logical_id]
        for event_name, event in spec.events.items():
            kind = event["Type"]
            if kind == "HttpApi":
                continue
            properties = resolver.resolve(event.get("Properties") or {})
            name = f"{spec.logical_id}.{event_name}"
            if kind == "SQS":
                detail = _wire_sqs(wiring, name, function, properties, sqs, retry_delay)
            elif kind == "SNS":
                detail = _wire_sns(wiring, name, function, properties, sqs, sns, retry_delay,
                                   _async_config(spec.properties, resolver, function, sqs))
            else:
                detail = _wire_schedule(wiring, name, function, properties, schedule_seconds,
                                        _async_config(spec.properties, resolver, function, sqs))
            wiring.wired.append(Wired(spec.logical_id, event_name, kind, detail))
    return wiring


class AsyncConfig(NamedTuple):
    attempts: int
    on_failure: FailureDestination | None


def _async_config(function_properties: dict[str, Any], resolver: Resolver, function: FunctionRuntime,
                  sqs: Any) -> AsyncConfig:
    """EventInvokeConfig: retries and an SQS on-failure destination (other destination types are refused)."""
    config = resolver.resolve(function_properties.get("EventInvokeConfig") or {})
    attempts = 1 + int(config.get("MaximumRetryAttempts", ASYNC_ATTEMPTS - 1))
    on_failure = (config.get("DestinationConfig") or {}).get("OnFailure")
    if not on_failure:
        return AsyncConfig(attempts, None)
    if on_failure.get("Type") != "SQS":
        raise TemplateError(f"{function.spec.logical_id}: on-failure destination type {on_failure.get('Type')!r} "
                            "is not emulated by the local stack (SQS is)")
    url = _queue_url(sqs, str(on_failure["Destination"]))
    return AsyncConfig(attempts, FailureDestination(sqs, url, function.arn))


def _queue_url(sqs: Any, arn: str) -> str:
    return sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]


def _wire_sqs(wiring: Wiring, name: str, function: FunctionRuntime, properties: dict[str, Any],
              sqs: Any, retry_delay: int) -> str:
    arn = str(properties["Queue"])
    batch = int(properties.get("BatchSize", 10))
    report = "ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or [])
    detail = f"{arn.rsplit(':', 1)[-1]} (batch {batch}{', ReportBatchItemFailures' if report else ''})"
    if properties.get("FilterCriteria"):
        wiring.notes.append(f"{name}: FilterCriteria not emulated, every message is delivered")
    if batch > 10:
        wiring.notes.append(f"{name}: BatchSize {batch} read as 10 (one ReceiveMessage call)")
    url = _queue_url(sqs, arn)
    if properties.get("Enabled", True) is False:
        return detail + " disabled in the template, not polled"
    window = float(properties.get("MaximumBatchingWindowInSeconds", 0))
    wiring.pollers.append(SqsPoller(name, function, sqs, url, arn, batch, report, retry_delay, batching_window=window))
    wiring.polled_queues.append(url)
    return detail


def _wire_sns(wiring: Wiring, name: str, function: FunctionRuntime, properties: dict[str, Any],
              sqs: Any, sns: Any, retry_delay: int, async_config: AsyncConfig) -> str:
    # A hidden queue stands in for Lambda's SNS subscription: moto delivers to it, we poll it.
    queue_name = f"{STACK_NAME}-sns-{name.replace('.', '-')}"
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}"
    attributes = {"RawMessageDelivery": "false"}
    if properties.get("FilterPolicy"):
        attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
        if properties.get("FilterPolicyScope"):
            attributes["FilterPolicyScope"] = str(properties["FilterPolicyScope"])
    subscription = sns.subscribe(TopicArn=str(properties["Topic"]), Protocol="sqs", Endpoint=arn,
                                 Attributes=attributes)["SubscriptionArn"]
    wiring.pollers.append(SnsPoller(name, function, sqs, url, arn, subscription, retry_delay,
                                    async_config.attempts, async_config.on_failure))
    wiring.polled_queues.append(url)
    return f"{str(properties['Topic']).rsplit(':', 1)[-1]} (via hidden queue {queue_name})"


def _wire_schedule(wiring: Wiring, name: str, function: FunctionRuntime, properties: dict[str, Any],
                   schedule_seconds: float, async_config: AsyncConfig) -> str:
    expression = properties.get("Schedule") or properties.get("ScheduleExpression")
    if properties.get("Enabled", True) is False or properties.get("State") == "DISABLED":
        return f"{expression}, disabled in the template, not run"
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{STACK_NAME}-{name.replace('.', '-')}"
    wiring.pollers.append(SchedulePoller(name, function, schedule_seconds,
                                         schedule_event_factory(properties, rule_arn),
                                         async_config.attempts, async_config.on_failure))
    return f"{expression}, locally every {schedule_seconds:g} s"
