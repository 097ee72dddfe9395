"""Create the template's data resources in the embedded AWS (moto), in dependency order.

Queues, tables, topics (with their subscriptions), buckets, secrets, SSM parameters and log groups
(the gateway writes the HTTP API's access log to its group) are created from their template
properties; every other type gets a readable placeholder for Ref/GetAtt and a debug line in the log
(IAM, alarms, dashboards, Cognito...: nothing to emulate for the handlers).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from graphlib import CycleError, TopologicalSorter
from typing import Any

from moderato_local.resolver import ACCOUNT_ID, REGION, STACK_NAME, Resolver, ResourceInfo, dependencies, placeholder
from moderato_local.template import FUNCTION_TYPES, HTTP_API_TYPE, IMPLICIT_HTTP_API, Template, TemplateError

log = logging.getLogger("moderato_local")

# The secret that holds the platforms' webhook-verification secrets (seeded from secrets.json).
WEBHOOK_SECRETS_ID = "WebhookSecrets"
# Keys of secrets.json that must never reach an AWS-shaped secret.
LOCAL_ONLY_KEYS = ("local_jwt",)

ClientFactory = Callable[[str], Any]


def physical_name(logical_id: str, explicit: Any = None, lower: bool = False) -> str:
    """The template's own name when it gives one, else a deterministic, readable one."""
    name = str(explicit) if explicit else f"{STACK_NAME}-{logical_id}"
    return name.lower() if lower else name


class Provisioner:
    def __init__(
        self,
        template: Template,
        resolver: Resolver,
        client: ClientFactory,
        local_secrets: dict[str, Any],
        api_endpoint: str,
    ) -> None:
        self.template = template
        self.resolver = resolver
        self.client = client
        self.local_secrets = local_secrets
        self.api_endpoint = api_endpoint
        self.notes: list[str] = []  # shown in the banner: what was deliberately not emulated
        self.created: dict[str, str] = {}  # logical id -> type, for what was really created

    def run(self) -> None:
        # Placeholders first, so a Ref to an alarm or a role resolves to something readable.
        for logical_id, resource in self.template.resources.items():
            self.resolver.resources[logical_id] = self._static_info(logical_id, resource["Type"])
        if IMPLICIT_HTTP_API not in self.resolver.resources:
            self.resolver.resources[IMPLICIT_HTTP_API] = self._static_info(IMPLICIT_HTTP_API, HTTP_API_TYPE)
        for logical_id in self._order():
            resource = self.template.resources[logical_id]
            creator = _CREATORS.get(resource["Type"])
            if creator is None:
                log.debug("skipped %s (%s): not emulated locally", logical_id, resource["Type"])
                continue
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                log.debug("skipped %s: condition %s is false", logical_id, resource["Condition"])
                continue
            properties = self.resolver.resolve(resource.get("Properties") or {})
            self.resolver.resources[logical_id] = creator(self, logical_id, properties)
            self.created[logical_id] = resource["Type"]
            log.debug("created %s (%s)", logical_id, resource["Type"])

    def _order(self) -> list[str]:
        graph: dict[str, set[str]] = {}
        for logical_id, resource in self.template.resources.items():
            if resource.get("Type") not in _CREATORS:
                continue
            depends_on = resource.get("DependsOn") or []
            deps = dependencies(resource.get("Properties") or {}) | set(
                [depends_on] if isinstance(depends_on, str) else depends_on
            )
            graph[logical_id] = {dep for dep in deps if self.template.resources.get(dep, {}).get("Type") in _CREATORS}
        try:
            return list(TopologicalSorter(graph).static_order())
        except CycleError as error:
            raise TemplateError(f"circular references between resources: {error.args[1]}") from error

    def _static_info(self, logical_id: str, resource_type: str) -> ResourceInfo:
        if resource_type in FUNCTION_TYPES:
            props = self.template.properties(logical_id)
            name = physical_name(logical_id, props.get("FunctionName") if isinstance(
                props.get("FunctionName"), str) else None)
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            return ResourceInfo(ref=name, attributes={"Arn": arn})
        if resource_type == HTTP_API_TYPE:
            api_id = logical_id.lower()
            return ResourceInfo(ref=api_id, attributes={"ApiEndpoint": self.api_endpoint, "ApiId": api_id})
        if resource_type == "AWS::Cognito::UserPool":
            # The local JWT issuer plays the user pool (see jwt_issuer.py).
            issuer = (self.local_secrets.get("local_jwt") or {}).get("issuer", "")
            info = placeholder(logical_id, resource_type)
            info.ref = f"{REGION}_moderatolocal"
            info.attributes.update(ProviderURL=issuer, ProviderName=issuer.split("://")[-1])
            return info
        return placeholder(logical_id, resource_type)

    # --- one creator per resource type -------------------------------------------------------------

    def queue(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        fifo = bool(props.get("FifoQueue"))
        name = physical_name(logical_id, props.get("QueueName"))
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key, value in props.items():
            if key in ("QueueName", "Tags", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds") or value is None:
                continue
            if isinstance(value, dict):
                value = json.dumps(value)  # RedrivePolicy, RedriveAllowPolicy: JSON strings in the API
            elif isinstance(value, bool):
                value = "true" if value else "false"
            attributes[key] = str(value)
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        return ResourceInfo(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def table(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("TableName"))
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = throughput
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                indexes = [dict(index) for index in props[key]]
                for index in indexes:
                    index.pop("ContributorInsightsSpecification", None)
                    if billing == "PROVISIONED" and key == "GlobalSecondaryIndexes":
                        index.setdefault("ProvisionedThroughput", throughput)
                request[key] = indexes
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, **stream}
        dynamodb = self.client("dynamodb")
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return ResourceInfo(ref=name, attributes=attributes)

    def simple_table(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
        return self.table(logical_id, {
            "TableName": props.get("TableName"),
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
            "BillingMode": "PAY_PER_REQUEST",
        })

    def topic(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("TopicName"))
        attributes = {key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                      for key in ("FifoTopic", "ContentBasedDeduplication", "DisplayName") if key in props}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription") or []:
            self._subscribe(logical_id, arn, subscription)
        return ResourceInfo(ref=arn, attributes={"TopicArn": arn, "TopicName": name})

    def subscription(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        arn = self._subscribe(logical_id, props["TopicArn"], props) or placeholder(logical_id, "sns").ref
        return ResourceInfo(ref=arn, attributes={"Arn": arn})

    def _subscribe(self, logical_id: str, topic_arn: str, props: dict[str, Any]) -> str | None:
        protocol = str(props.get("Protocol", "")).lower()
        if protocol not in ("sqs", "http", "https"):
            # email/sms need a human; lambda subscriptions are wired as SNS events of the function.
            self.notes.append(f"{logical_id}: {protocol} subscription to {props.get('Endpoint')} not emulated")
            return None
        attributes = {key: json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key]).lower()
                      for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope") if key in props}
        return self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol=protocol, Endpoint=props["Endpoint"], Attributes=attributes
        )["SubscriptionArn"]

    def bucket(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("BucketName"), lower=True)
        self.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return ResourceInfo(ref=name, attributes={
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        })

    def secret(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("Name"))
        if logical_id in self.local_secrets:
            value: Any = self.local_secrets[logical_id]
        elif logical_id == WEBHOOK_SECRETS_ID:
            value = {key: inner for key, inner in self.local_secrets.items()
                     if key not in LOCAL_ONLY_KEYS and not key.startswith("_")}
        else:
            value = {}
        text = value if isinstance(value, str) else json.dumps(value)
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=text)["ARN"]
        return ResourceInfo(ref=arn, attributes={"Id": arn, "Name": name})

    def ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("Name"))
        if not name.startswith("/") and "/" in name:
            name = "/" + name
        self.client("ssm").put_parameter(
            Name=name, Value=str(props.get("Value", "")), Type=props.get("Type", "String"), Overwrite=True
        )
        return ResourceInfo(ref=name, attributes={"Type": props.get("Type", "String"), "Value": props.get("Value")})

    def log_group(self, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
        name = physical_name(logical_id, props.get("LogGroupName"))
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        # CloudFormation's GetAtt Arn of a log group ends in ":*"
        return ResourceInfo(ref=name, attributes={"Arn": log_group_arn(name)})


def log_group_arn(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"


def log_group_name(arn: str) -> str:
    """The group's name in its ARN (with or without the trailing ":*")."""
    prefix, _, rest = str(arn).partition(":log-group:")
    if not prefix.startswith("arn:") or not rest:
        raise TemplateError(f"{arn!r} is not a log group ARN")
    return rest.removesuffix(":*")


_CREATORS: dict[str, Callable[[Provisioner, str, dict[str, Any]], ResourceInfo]] = {
    "AWS::SQS::Queue": Provisioner.queue,
    "AWS::DynamoDB::Table": Provisioner.table,
    "AWS::Serverless::SimpleTable": Provisioner.simple_table,
    "AWS::SNS::Topic": Provisioner.topic,
    "AWS::SNS::Subscription": Provisioner.subscription,
    "AWS::S3::Bucket": Provisioner.bucket,
    "AWS::SecretsManager::Secret": Provisioner.secret,
    "AWS::SSM::Parameter": Provisioner.ssm_parameter,
    "AWS::Logs::LogGroup": Provisioner.log_group,
}
