"""The alerting part of template.yaml: what triage emits is what the alarms watch."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from moderato_local.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIMENSION = [{"Name": "service", "Value": "moderato"}]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def test_the_alerts_function_is_subscribed_to_the_alerts_topic(template: dict[str, Any]) -> None:
    function = template["Resources"]["AlertsFunction"]["Properties"]
    assert function["Handler"] == "alerts.lambda_handler" and (ROOT / "functions" / "alerts.py").exists()
    [event] = function["Events"].values()
    assert event == {"Type": "SNS", "Properties": {"Topic": {"Ref": "AlertsTopic"}}}
    assert function["Environment"]["Variables"]["CHAT_WEBHOOK_URL"] == {"Ref": "ChatWebhookUrl"}
    parameter = template["Parameters"]["ChatWebhookUrl"]
    assert parameter["Default"] == "" and parameter["NoEcho"] is True


def test_metric_alarms_watch_what_triage_emits(template: dict[str, Any]) -> None:
    # Powertools: namespace from POWERTOOLS_METRICS_NAMESPACE, one default dimension service=<service name>.
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Moderato" and env["POWERTOOLS_SERVICE_NAME"] == "moderato"
    triage = (ROOT / "functions" / "triage.py").read_text()
    crisis = template["Resources"]["CrisisCasesAlarm"]["Properties"]
    assert (crisis["Namespace"], crisis["MetricName"], crisis["Dimensions"]) == ("Moderato", "CrisisCases",
                                                                                SERVICE_DIMENSION)
    assert crisis["Threshold"] == 1 and crisis["Period"] == 60 and crisis["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    assert crisis["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    volume = template["Resources"]["ComplaintVolumeAlarm"]["Properties"]
    metrics = {m["Id"]: m for m in volume["Metrics"]}
    stat = metrics["complaints"]["MetricStat"]["Metric"]
    assert (stat["Namespace"], stat["MetricName"], stat["Dimensions"]) == ("Moderato", "ComplaintCases",
                                                                          SERVICE_DIMENSION)
    assert metrics[volume["ThresholdMetricId"]]["Expression"].startswith("ANOMALY_DETECTION_BAND(complaints")
    for name in ("CrisisCases", "ComplaintCases", "WaveAlerts"):
        assert f'add_metric(name="{name}"' in triage, f"triage does not emit {name}"


def test_the_dashboard_is_valid_json_and_shows_what_operators_need(template: dict[str, Any]) -> None:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    referenced = set(re.findall(r"\$\{([^}.]+)", body))
    assert referenced - {"AWS::Region"} <= set(template["Resources"])
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    text = json.dumps(widgets)
    for needle in ("PostsTriaged", "CrisisCases", "WaveAlerts", "ApproximateNumberOfMessagesVisible", "Errors",
                   "Duration", "label,platform"):
        assert needle in text, needle
    for dlq in ("IngestDLQ", "SpamDLQ", "ComplaintDLQ", "CrisisDLQ"):
        assert f"{dlq}.QueueName" in body


def test_failed_triage_records_have_their_own_metric_and_alarm(template: dict[str, Any]) -> None:
    # Partial batch responses: a failed record leaves the invocation successful, so Lambda Errors misses it.
    triage = (ROOT / "functions" / "triage.py").read_text()
    assert 'name="TriageRecordFailures"' in triage  # the EMF itself: tests/integration/test_triage_signals.py
    alarm = template["Resources"]["TriageRecordFailuresAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == ("Moderato", "TriageRecordFailures",
                                                                              SERVICE_DIMENSION)
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == ("Sum", 300, 1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"  # no failure, no data: that is healthy
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
