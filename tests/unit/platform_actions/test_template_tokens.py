"""template.yaml: the actions function may write back refreshed tokens, on PlatformTokens only, and is alarmed."""

from __future__ import annotations

from typing import Any

from moderato_local.cfn_yaml import load_template
from tests.support import REPO

RESOURCES = load_template(REPO / "template.yaml")["Resources"]


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def writers_of_secrets() -> dict[str, list[Any]]:
    return {name: [s["Resource"] for s in statements(resource) if "PutSecretValue" in str(s["Action"])]
            for name, resource in RESOURCES.items() if resource["Type"] == "AWS::Serverless::Function"}


def test_only_the_actions_function_writes_a_secret_and_only_platform_tokens() -> None:
    writers = {name: targets for name, targets in writers_of_secrets().items() if targets}
    assert writers == {"ActionsFunction": [{"Ref": "PlatformTokens"}]}
    [statement] = [s for s in statements(RESOURCES["ActionsFunction"]) if "PutSecretValue" in str(s["Action"])]
    assert statement["Effect"] == "Allow" and statement["Action"] == ["secretsmanager:PutSecretValue"]


def test_a_token_needing_reauthorization_is_alarmed_on_the_metric_the_function_emits() -> None:
    alarm = RESOURCES["PlatformTokenReauthorizationAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Moderato", "PlatformTokenNeedsReauthorization")
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    source = (REPO / "functions" / "actions.py").read_text(encoding="utf-8")
    assert f'name="{alarm["MetricName"]}"' in source
