"""template.yaml guardrails specific to review, actions and SLAs (issue 4)."""

from __future__ import annotations

from typing import Any

import pytest

from moderato_local.cfn_yaml import load_template
from tests.support import REPO


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return load_template(REPO / "template.yaml")["Resources"]


def test_review_routes_sit_behind_the_cognito_jwt_authorizer_and_webhooks_do_not(resources: dict[str, Any]) -> None:
    authorizers = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    jwt = authorizers["CognitoJwt"]["JwtConfiguration"]
    assert jwt["audience"] == [{"Ref": "ReviewersUserPoolClient"}]
    assert "ReviewersUserPool.ProviderURL" in jwt["issuer"]["Fn::Sub"]
    assert "DefaultAuthorizer" not in resources["HttpApi"]["Properties"]["Auth"]
    review_events = resources["ReviewFunction"]["Properties"]["Events"]
    assert len(review_events) == 9
    assert all(e["Properties"]["Auth"] == {"Authorizer": "CognitoJwt"} for e in review_events.values())
    assert all("Auth" not in e["Properties"] for e in resources["WebhookFunction"]["Properties"]["Events"].values())


def test_cognito_groups_are_moderators_and_approvers(resources: dict[str, Any]) -> None:
    groups = {r["Properties"]["GroupName"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == {"moderators", "approvers"}
    assert resources["ReviewersUserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_only_the_actions_function_reads_platform_tokens(resources: dict[str, Any]) -> None:
    readers = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
               and "PlatformTokens" in str(r["Properties"].get("Policies", []))]
    assert readers == ["ActionsFunction"]
    env = resources["ActionsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["PLATFORM_TOKENS_SECRET_ID"] == {"Ref": "PlatformTokens"}
    # Created empty: dry run until an operator puts tokens in; nothing real is committed.
    secret = resources["PlatformTokens"]["Properties"]
    assert "SecretString" not in secret and secret["GenerateSecretString"]["SecretStringTemplate"] == \
        '{"meta": {}, "x": {}}'


def test_actions_queue_and_sla_check_wiring(resources: dict[str, Any]) -> None:
    event = resources["ActionsFunction"]["Properties"]["Events"]["ActionsQueueEvent"]["Properties"]
    assert event["Queue"] == {"Fn::GetAtt": ["ActionsQueue", "Arn"]}
    assert resources["ActionsQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == \
        {"Fn::GetAtt": ["ActionsDLQ", "Arn"]}
    schedule = resources["SlaCheckFunction"]["Properties"]["Events"]["EveryFiveMinutes"]
    assert (schedule["Type"], schedule["Properties"]["Schedule"]) == ("Schedule", "rate(5 minutes)")
    alarm = resources["OverdueCasesAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Moderato", "OverdueCases")
    assert {"Name": "service", "Value": "moderato"} in alarm["Dimensions"]  # Powertools' default dimension
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    # The SLA check only reads; the review function writes cases and sends actions, nothing else.
    read_only = [{"DynamoDBReadPolicy": {"TableName": {"Ref": "CasesTable"}}}]
    assert resources["SlaCheckFunction"]["Properties"]["Policies"] == read_only
