"""Template reading, intrinsic resolution, provisioning from the template, and wiring refusals."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from moderato_local.provision import Provisioner
from moderato_local.resolver import Resolver, ResourceInfo, dependencies
from moderato_local.stack import LocalStack, PortInUse
from moderato_local.template import Template, TemplateError
from moderato_local.wiring import wire

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "local"
SECRETS = json.loads((REPO / "infra" / "local" / "secrets.json").read_text())


def test_functions_merge_globals_and_keep_their_own_values() -> None:
    specs = {spec.logical_id: spec for spec in Template.load(FIXTURES / "template.yaml").functions()}
    echo = specs["EchoFunction"]
    assert echo.handler == "fake_local_echo.handler" and echo.timeout == 5
    assert echo.environment["POWERTOOLS_SERVICE_NAME"] == "echo"  # function value wins
    assert echo.environment["STAGE"] == {"Ref": "Stage"}  # from Globals
    assert specs["WorkerFunction"].environment["POWERTOOLS_SERVICE_NAME"] == "fake"


def test_intrinsics_resolve_against_parameters_pseudo_parameters_and_resources() -> None:
    template = Template({
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "Ids": {"Type": "CommaDelimitedList",
                                                                          "Default": "a,b"}},
        "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
        "Resources": {},
    })
    resolver = Resolver(template)
    resolver.resources["Queue"] = ResourceInfo("https://q", {"Arn": "arn:q"})
    assert resolver.resolve({"Ref": "Stage"}) == "dev"
    assert resolver.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-${Queue.Arn}-${!Literal}"}) == (
        "moderato-local-dev-arn:q-${Literal}")
    assert resolver.resolve({"Fn::Sub": ["${X}/${Queue}", {"X": {"Ref": "Stage"}}]}) == "dev/https://q"
    assert resolver.resolve({"Fn::Join": ["-", [{"Ref": "Stage"}, "x"]]}) == "dev-x"
    assert resolver.resolve({"Fn::Select": [1, {"Ref": "Ids"}]}) == "b"
    assert resolver.resolve({"Fn::If": ["IsDev", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:q"
    with pytest.raises(TemplateError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(TemplateError, match="ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_dependencies_are_found_in_ref_getatt_and_sub() -> None:
    value = {"a": {"Ref": "A"}, "b": [{"Fn::GetAtt": ["B", "Arn"]}], "c": {"Fn::Sub": "${C.Arn}/${AWS::Region}"}}
    assert dependencies(value) >= {"A", "B", "C"}


@pytest.fixture
def provisioned(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Resolver, Provisioner]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        template = Template.load(FIXTURES / "template.yaml")
        resolver = Resolver(template)
        provisioner = Provisioner(template, resolver, lambda service: boto3.client(service, region_name="eu-west-1"),
                                  SECRETS, "http://127.0.0.1:8787")
        provisioner.run()
        yield resolver, provisioner


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1")


def test_queues_are_created_with_their_redrive_policy(provisioned: tuple[Resolver, Provisioner]) -> None:
    resolver, _ = provisioned
    attributes = client("sqs").get_queue_attributes(QueueUrl=resolver.resources["WorkQueue"].ref,
                                                    AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": resolver.resources["WorkDLQ"].attributes["Arn"], "maxReceiveCount": 2}


def test_tables_get_their_indexes_and_ttl(provisioned: tuple[Resolver, Provisioner]) -> None:
    resolver, _ = provisioned
    name = resolver.resources["CasesTable"].ref
    table = client("dynamodb").describe_table(TableName=name)["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["ByQueueStatus"]
    ttl = client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_secrets_are_seeded_without_local_only_keys(provisioned: tuple[Resolver, Provisioner]) -> None:
    resolver, _ = provisioned
    secrets = client("secretsmanager")
    webhook = json.loads(secrets.get_secret_value(SecretId=resolver.resources["WebhookSecrets"].ref)["SecretString"])
    assert webhook["meta"]["app_secret"] == SECRETS["meta"]["app_secret"]
    assert "local_jwt" not in webhook and "_comment" not in webhook
    other = secrets.get_secret_value(SecretId=resolver.resources["PlatformTokens"].ref)["SecretString"]
    assert json.loads(other) == {}


def test_unemulated_types_get_placeholders_and_notes(provisioned: tuple[Resolver, Provisioner]) -> None:
    resolver, provisioner = provisioned
    assert "WorkDLQAlarm" not in provisioner.created and "UserPool" not in provisioner.created
    assert resolver.resolve({"Ref": "WorkDLQAlarm"}) == "moderato-local-WorkDLQAlarm"
    assert resolver.resolve({"Fn::GetAtt": ["Api", "ApiEndpoint"]}) == "http://127.0.0.1:8787"
    assert any("email subscription" in note for note in provisioner.notes)


def test_an_event_type_the_stack_cannot_emulate_is_a_startup_error() -> None:
    template = Template({"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "m.h", "Events": {"Stream": {"Type": "Kinesis", "Properties": {}}}}}}})
    with pytest.raises(TemplateError, match=r"Fn\.Stream: event type 'Kinesis'"):
        wire(template, Resolver(template), {}, None, None, 1, 60)


def test_a_busy_port_is_reported_with_the_option_to_change_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} is in use: pass --port"):
            LocalStack(FIXTURES / "template.yaml", FIXTURES / "functions", gateway_port=port, aws_port=0,
                       log_dir=tmp_path).start()
        with pytest.raises(PortInUse, match="pass --aws-port"):
            LocalStack(FIXTURES / "template.yaml", FIXTURES / "functions", gateway_port=0, aws_port=port,
                       log_dir=tmp_path).start()


def test_the_http_apis_access_log_group_is_created_with_the_templates_name() -> None:
    from moderato_local.provision import log_group_name

    with mock_aws():
        template = Template.load(REPO / "template.yaml")
        resolver = Resolver(template)
        Provisioner(template, resolver, client, SECRETS, "http://127.0.0.1:8787").run()
        # The HttpApi's AccessLogSettings.DestinationArn resolves to the group it names, which exists
        destination = resolver.resolve(template.http_api("HttpApi")["AccessLogSettings"]["DestinationArn"])
        assert log_group_name(destination) == "/aws/vendedlogs/moderato-local/http-api-access"
        [group] = client("logs").describe_log_groups(
            logGroupNamePrefix="/aws/vendedlogs/moderato-local/http-api-access")["logGroups"]
        assert group["retentionInDays"] == 30
    with pytest.raises(TemplateError):
        log_group_name("moderato-local-placeholder")
