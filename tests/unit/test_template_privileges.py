"""Least privilege, read from the template as AWS would deploy it: SAM-transformed, managed policies expanded.

The SAM translator turns policy templates, event sources and destinations into IAM roles, so what is
checked here is each function's effective set of (action, resource) grants, not what template.yaml says.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from moderato_local.cfn_yaml import load_template
from moderato_local.resolver import dependencies
from tests.support import REPO

# What the AWS managed policies SAM attaches grant (their published documents). A managed policy not
# listed here fails the tests: read what it grants, then add it.
MANAGED_POLICIES: dict[str, tuple[str, ...]] = {
    "service-role/AWSLambdaBasicExecutionRole": ("logs:CreateLogGroup", "logs:CreateLogStream",
                                                 "logs:PutLogEvents"),
    "AWSXrayWriteOnlyAccess": ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                               "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"),
    "service-role/AWSLambdaSQSQueueExecutionRole": ("sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                    "sqs:GetQueueAttributes", "logs:CreateLogGroup",
                                                    "logs:CreateLogStream", "logs:PutLogEvents"),
}
# Who may read platform access tokens: the actions function, and the enrich function (a mention's text).
TOKEN_READERS = {"ActionsFunction", "EnrichFunction"}
WEBHOOK_SECRET_READERS = {"WebhookFunction"}
# Any of these on CasesTable could remove a case or an event of its history.
DELETING = ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable")
# A function that really scans a table is listed here with it. None does: every read is a key or an index.
SCANS_IN_USE: set[tuple[str, str]] = set()
# No function needs DeleteItem: triage finds redeliveries by reading the cases (no idempotency records).
NEEDED_DELETES: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Grant:
    action: str  # as written, may hold a wildcard
    resource: Any  # "*", or an expression naming logical ids

    def allows(self, action: str) -> bool:
        return fnmatch.fnmatchcase(action.lower(), self.action.lower())

    def covers(self, logical_id: str) -> bool:
        return self.resource == "*" or logical_id in dependencies(self.resource)


def transform(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam deploy` sends CloudFormation (the code location set, as `sam package` does)."""
    sam = copy.deepcopy(template)
    sam["Globals"]["Function"]["CodeUri"] = "s3://moderato-artifacts/functions.zip"
    for resource in sam["Resources"].values():  # `sam package` does the same for layers
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://moderato-artifacts/layer.zip"
    translator = Translator(managed_policy_map={}, sam_parser=Parser(),
                            boto_session=boto3.Session(region_name="eu-west-1"))
    return translator.translate(sam_template=sam, parameter_values={})


def effective_grants(transformed: dict[str, Any]) -> dict[str, list[Grant]]:
    """Function logical id -> every Allow its execution role has (inline, attached and managed)."""
    resources = transformed["Resources"]
    by_role: dict[str, list[Grant]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            grants = by_role.setdefault(logical_id, [])
            for arn in resource["Properties"].get("ManagedPolicyArns", []):
                name = (arn if isinstance(arn, str) else json.dumps(arn)).split(":policy/")[-1]
                assert name in MANAGED_POLICIES, f"{logical_id}: managed policy {arn} is unknown to this test"
                grants += [Grant(action, "*") for action in MANAGED_POLICIES[name]]
            for policy in resource["Properties"].get("Policies", []):
                grants += _statements(policy["PolicyDocument"])
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            for role in resource["Properties"].get("Roles", []):
                by_role.setdefault(role["Ref"], []).extend(_statements(resource["Properties"]["PolicyDocument"]))
    return {logical_id: by_role[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
            for logical_id, resource in resources.items() if resource["Type"] == "AWS::Lambda::Function"}


def _statements(document: dict[str, Any]) -> list[Grant]:
    found: list[Grant] = []
    for statement in document["Statement"]:
        assert "NotAction" not in statement and "NotResource" not in statement, "read NotAction/NotResource first"
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement.get("Resource", "*")
        found += [Grant(action, target) for action in actions
                  for target in (targets if isinstance(targets, list) else [targets])]
    return found


def who_may(grants: dict[str, list[Grant]], action: str, logical_id: str) -> set[str]:
    return {function for function, allowed in grants.items()
            if any(grant.allows(action) and grant.covers(logical_id) for grant in allowed)}


def actions_on(grants: list[Grant], logical_id: str) -> set[str]:
    return {grant.action for grant in grants if grant.resource != "*" and logical_id in dependencies(grant.resource)}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(REPO / "template.yaml")


@pytest.fixture(scope="module")
def grants(template: dict[str, Any]) -> dict[str, list[Grant]]:
    return effective_grants(transform(template))


def tokens_readers_check(grants: dict[str, list[Grant]]) -> None:
    readers = who_may(grants, "secretsmanager:GetSecretValue", "PlatformTokens")
    assert readers <= TOKEN_READERS, f"only actions (and enrichment) may read platform tokens: {sorted(readers)}"


def test_every_function_is_checked(grants: dict[str, list[Grant]], template: dict[str, Any]) -> None:
    functions = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(grants) == functions and functions


def test_only_actions_and_enrich_read_platform_tokens(grants: dict[str, list[Grant]]) -> None:
    tokens_readers_check(grants)
    assert who_may(grants, "secretsmanager:GetSecretValue", "PlatformTokens") == TOKEN_READERS


def test_triage_stays_token_free_and_hands_id_only_posts_to_enrich(grants: dict[str, list[Grant]]) -> None:
    assert "TriageFunction" not in who_may(grants, "secretsmanager:GetSecretValue", "PlatformTokens")
    assert who_may(grants, "sqs:SendMessage", "EnrichQueue") == {"TriageFunction"}


def test_the_tokens_secret_policy_names_exactly_the_token_readers(template: dict[str, Any]) -> None:
    # The resource policy denies every other principal, whatever IAM grants them.
    [statement] = template["Resources"]["PlatformTokensPolicy"]["Properties"]["ResourcePolicy"]["Statement"]
    allowed = statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
    assert {arn["Fn::GetAtt"][0].removesuffix("Role") for arn in allowed} == TOKEN_READERS


def test_only_the_webhook_reads_webhook_secrets(grants: dict[str, list[Grant]]) -> None:
    assert who_may(grants, "secretsmanager:GetSecretValue", "WebhookSecrets") == WEBHOOK_SECRET_READERS


@pytest.mark.parametrize("mutation", ["policy_template", "statement", "wildcard"])
def test_the_check_catches_triage_given_the_tokens_secret(template: dict[str, Any], mutation: str) -> None:
    # Given a copy of the template where triage is granted the platform tokens, three ways
    granted: dict[str, Any] = {
        "policy_template": {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "PlatformTokens"}}},
        "statement": {"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                     "Resource": {"Ref": "PlatformTokens"}}]},
        "wildcard": {"Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]},
    }[mutation]
    mutated = copy.deepcopy(template)
    mutated["Resources"]["TriageFunction"]["Properties"]["Policies"].append(granted)
    # When the same check reads it, Then it fails, naming triage
    with pytest.raises(AssertionError, match="TriageFunction"):
        tokens_readers_check(effective_grants(transform(mutated)))


def case_deleters_check(grants: dict[str, list[Grant]]) -> None:
    for action in DELETING:
        assert who_may(grants, action, "CasesTable") == set(), action


def scans_check(grants: dict[str, list[Grant]], template: dict[str, Any]) -> None:
    tables = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    scans = {(function, table) for table in tables for function in who_may(grants, "dynamodb:Scan", table)}
    assert scans == SCANS_IN_USE


def test_nothing_deletes_a_case_or_its_history(grants: dict[str, list[Grant]]) -> None:
    case_deleters_check(grants)


def test_no_function_may_delete_any_item(grants: dict[str, list[Grant]], template: dict[str, Any]) -> None:
    tables = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    deletes = {(function, table) for table in tables for function in who_may(grants, "dynamodb:DeleteItem", table)}
    assert deletes == NEEDED_DELETES


def test_no_function_has_a_scan_it_does_not_use(grants: dict[str, list[Grant]], template: dict[str, Any]) -> None:
    scans_check(grants, template)


def test_the_checks_catch_a_crud_or_read_policy_template_on_cases(template: dict[str, Any]) -> None:
    # Given SAM's convenient policy templates on CasesTable: Crud can delete, Read can scan
    mutated = copy.deepcopy(template)
    table = {"TableName": {"Ref": "CasesTable"}}
    mutated["Resources"]["ReviewFunction"]["Properties"]["Policies"].append({"DynamoDBCrudPolicy": table})
    mutated["Resources"]["SlaCheckFunction"]["Properties"]["Policies"].append({"DynamoDBReadPolicy": table})
    grants = effective_grants(transform(mutated))
    with pytest.raises(AssertionError, match="DeleteItem"):
        case_deleters_check(grants)
    with pytest.raises(AssertionError, match="SlaCheckFunction"):
        scans_check(grants, mutated)


def test_the_delivery_ledger_is_written_narrowly(grants: dict[str, list[Grant]]) -> None:
    # Acceptance is witnessed by API Gateway's access log: the webhook writes nothing here.
    assert actions_on(grants["WebhookFunction"], "DeliveryLedgerTable") == set()
    assert actions_on(grants["TriageFunction"], "DeliveryLedgerTable") == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    others = {f for f, g in grants.items() if actions_on(g, "DeliveryLedgerTable")} - {"TriageFunction"}
    assert others == set()


def test_async_functions_may_write_their_failures_to_their_dlq(grants: dict[str, list[Grant]]) -> None:
    assert who_may(grants, "sqs:SendMessage", "AlertsDLQ") == {"AlertsFunction"}
    # an unreadable delivery is set aside at once, by the function that cannot read it
    assert who_may(grants, "sqs:SendMessage", "IngestDLQ") == {"TriageFunction"}
    assert who_may(grants, "sqs:SendMessage", "SlaCheckDLQ") == {"SlaCheckFunction"}


# What may be granted on every resource: logs, tracing, and the SQS event source's polling.
WILDCARD_OK = ("logs:", "xray:", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def test_no_wildcard_beyond_logs_tracing_and_queue_polling(grants: dict[str, list[Grant]]) -> None:
    broad = {(function, grant.action) for function, found in grants.items() for grant in found
             if grant.resource == "*" and not grant.action.startswith(WILDCARD_OK)}
    assert broad == set()


@pytest.mark.parametrize("function", ["TriageFunction", "ReviewFunction", "SlaCheckFunction"])
def test_functions_that_read_pages_of_cases_may_read_them_by_key(grants: dict[str, list[Grant]],
                                                                  function: str) -> None:
    # The index holds no case document: a listing (review, the SLA check) or a batch's read (triage)
    # fetches the cases with BatchGetItem, which AWS refuses unless it is granted.
    assert "dynamodb:BatchGetItem" in actions_on(grants[function], "CasesTable")
