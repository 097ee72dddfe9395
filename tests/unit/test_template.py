"""Guardrails of template.yaml, checked on the parsed template (and by cfn-lint).

The template is the single source of truth for AWS and for the local stack, so the properties
that keep data safe (DLQs, redrive, visibility vs. timeout, partial batch failures, alarms) and
the least-privilege rules (who may read which secret) are asserted here, not just documented.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moderato_local.cfn_yaml import load_template, loads_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

# The only function that will ever be allowed to read platform access tokens (a later issue).
ACTIONS_FUNCTION = "ActionsFunction"
WEBHOOK_SECRET = {"Ref": "WebhookSecrets"}
# SAM policy templates that grant reading a Secrets Manager secret, and the parameter naming it.
SECRET_READING_POLICY_TEMPLATES = {"AWSSecretsManagerGetSecretValuePolicy": "SecretArn"}
# Managed policies that would let a function read any secret in the account.
BROAD_SECRET_MANAGED_POLICIES = ("SecretsManagerReadWrite", "AdministratorAccess", "PowerUserAccess")
SECRET_READ_ACTIONS = ("secretsmanager:getsecretvalue", "secretsmanager:*", "secretsmanager:get*", "*")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _of_type(resources: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in resources.items() if res["Type"] == type_}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every function's properties with Globals.Function merged in (maps merged, as SAM does)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    merged: dict[str, dict[str, Any]] = {}
    for name, res in _of_type(template["Resources"], "AWS::Serverless::Function").items():
        props = dict(globals_)
        for key, value in res.get("Properties", {}).items():
            if isinstance(value, dict) and isinstance(props.get(key), dict):
                props[key] = _merge_maps(props[key], value)
            else:
                props[key] = value
        merged[name] = props
    return merged


def _merge_maps(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_maps(out[key], value)
        else:
            out[key] = value
    return out


def _queue_arn_ref(value: Any) -> str | None:
    """The logical id behind {"Fn::GetAtt": [X, "Arn"]}, else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        resource, attribute = value["Fn::GetAtt"]
        if attribute == "Arn":
            return resource
    return None


def _main_queues(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in _of_type(resources, "AWS::SQS::Queue").items() if not n.endswith("DLQ")}


def _dlqs(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in _of_type(resources, "AWS::SQS::Queue").items() if n.endswith("DLQ")}


# ------------------------------------------------------------------ the loader itself


def test_loader_turns_short_tags_into_long_form() -> None:
    doc = loads_template(
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "A: !Ref X\n"
        "B: !GetAtt Q.Arn\n"
        "C: !Sub 'https://${Api}.example/'\n"
        "D: !If [Cond, !Ref Y, !Ref AWS::NoValue]\n"
        "E: !Not [!Equals [!Ref P, '']]\n"
        "F: !Join ['', [a, !Ref Z]]\n"
        "G: !GetAtt [R, Attr]\n"
        "H: !Condition HasX\n"
    )
    assert doc == {
        "AWSTemplateFormatVersion": "2010-09-09",
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "https://${Api}.example/"},
        "D": {"Fn::If": ["Cond", {"Ref": "Y"}, {"Ref": "AWS::NoValue"}]},
        "E": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]},
        "F": {"Fn::Join": ["", ["a", {"Ref": "Z"}]]},
        "G": {"Fn::GetAtt": ["R", "Attr"]},
        "H": {"Condition": "HasX"},
    }


def test_loader_rejects_duplicate_keys() -> None:
    with pytest.raises(Exception, match="duplicate key"):
        loads_template("Resources:\n  A: 1\n  A: 2\n")


# ------------------------------------------------------------------ lint


def test_cfn_lint_is_clean() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    assert cfn_lint.exists(), f"cfn-lint not installed next to {sys.executable}"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE_PATH)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"cfn-lint found problems:\n{result.stdout}{result.stderr}"


# ------------------------------------------------------------------ queues


def test_expected_queues_exist(resources: dict[str, Any]) -> None:
    assert set(_main_queues(resources)) >= {"IngestQueue", "SpamQueue", "ComplaintQueue", "CrisisQueue"}
    for name in _main_queues(resources):
        assert name.removesuffix("Queue") + "DLQ" in _dlqs(resources), f"{name} has no DLQ"


def test_every_queue_redrives_to_its_own_dlq(resources: dict[str, Any]) -> None:
    targets: dict[str, str] = {}
    for name, queue in _main_queues(resources).items():
        redrive = queue["Properties"].get("RedrivePolicy")
        assert redrive, f"{name} has no RedrivePolicy"
        dlq = _queue_arn_ref(redrive["deadLetterTargetArn"])
        assert dlq == name.removesuffix("Queue") + "DLQ", f"{name} redrives to {dlq}, not its own DLQ"
        assert 1 <= int(redrive["maxReceiveCount"]) <= 10
        targets[name] = dlq
    assert len(set(targets.values())) == len(targets), "two queues share a DLQ"


def test_queues_are_encrypted_and_dlqs_keep_messages_14_days(resources: dict[str, Any]) -> None:
    for name, queue in _of_type(resources, "AWS::SQS::Queue").items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name
    for name, dlq in _dlqs(resources).items():
        assert dlq["Properties"]["MessageRetentionPeriod"] == 1209600, name
        assert "RedrivePolicy" not in dlq["Properties"], f"{name} is a DLQ and must not redrive further"


def test_visibility_timeout_covers_six_consumer_timeouts_plus_the_batching_window(template: dict[str, Any]) -> None:
    # AWS: at least six times the function timeout plus MaximumBatchingWindowInSeconds, or a message
    # can become visible again (and be processed twice) while its batch is still being gathered or run.
    resources = template["Resources"]
    consumed = set()
    for fn_name, props in _functions(template).items():
        for event in props.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = _queue_arn_ref(event["Properties"]["Queue"])
            assert queue in resources, f"{fn_name} consumes an unknown queue {queue}"
            window = int(event["Properties"].get("MaximumBatchingWindowInSeconds", 0))
            visibility = int(resources[queue]["Properties"]["VisibilityTimeout"])
            assert visibility >= 6 * int(props["Timeout"]) + window, (
                f"{queue} VisibilityTimeout {visibility} < 6 x {fn_name} Timeout {props['Timeout']} + {window}")
            consumed.add(queue)
    assert {"IngestQueue", "ActionsQueue"} <= consumed


def test_triage_consumes_ingest_with_partial_batch_failures_and_bounded_concurrency(
    template: dict[str, Any],
) -> None:
    events = _functions(template)["TriageFunction"]["Events"]
    event = events["IngestQueueEvent"]
    assert event["Type"] == "SQS"
    props = event["Properties"]
    assert _queue_arn_ref(props["Queue"]) == "IngestQueue"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # cfn-lint passes ScalingConfig through unchecked: guard the property name here.
    assert set(props["ScalingConfig"]) == {"MaximumConcurrency"}
    assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= 1000
    assert 1 <= props["BatchSize"] <= 10


def test_every_sqs_consumer_reports_batch_item_failures(template: dict[str, Any]) -> None:
    for fn_name, props in _functions(template).items():
        for event_name, event in props.get("Events", {}).items():
            if event["Type"] == "SQS":
                p = event["Properties"]
                assert "ReportBatchItemFailures" in p.get("FunctionResponseTypes", []), (
                    f"{fn_name}.{event_name}: one bad record would fail and retry the whole batch"
                )
                assert p.get("ScalingConfig", {}).get("MaximumConcurrency"), f"{fn_name}.{event_name}"


# ------------------------------------------------------------------ alarms


def _alarm_targets(resources: dict[str, Any], namespace: str, dimension: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for alarm in _of_type(resources, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") != namespace:
            continue
        for dim in props.get("Dimensions", []):
            if dim["Name"] == dimension:
                value = dim["Value"]
                if "Fn::GetAtt" in value:
                    found[value["Fn::GetAtt"][0]] = props
                elif "Ref" in value:
                    found[value["Ref"]] = props
    return found


def test_every_dlq_has_a_depth_alarm_to_the_alerts_topic(resources: dict[str, Any]) -> None:
    alarmed = _alarm_targets(resources, "AWS/SQS", "QueueName")
    for dlq in _dlqs(resources):
        assert dlq in alarmed, f"{dlq} has no alarm"
        props = alarmed[dlq]
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["Threshold"] == 1
        assert props["Period"] == 60
        assert props["EvaluationPeriods"] == 1
        assert props["TreatMissingData"] == "notBreaching"
        assert {"Ref": "AlertsTopic"} in props["AlarmActions"]


def test_every_function_has_an_errors_alarm(template: dict[str, Any]) -> None:
    alarmed = _alarm_targets(template["Resources"], "AWS/Lambda", "FunctionName")
    for fn_name in _functions(template):
        assert fn_name in alarmed, f"{fn_name} has no Errors alarm"
        assert alarmed[fn_name]["MetricName"] == "Errors"
        assert {"Ref": "AlertsTopic"} in alarmed[fn_name]["AlarmActions"]


def test_alerts_topic_can_receive_cloudwatch_alarms(resources: dict[str, Any]) -> None:
    # CloudWatch cannot publish to a topic encrypted with the AWS managed key alias/aws/sns.
    key_id = resources["AlertsTopic"]["Properties"].get("KmsMasterKeyId")
    if key_id is None:
        return
    assert key_id != "alias/aws/sns"
    key = resources[key_id["Ref"]]
    principals = [s.get("Principal", {}) for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals


# ------------------------------------------------------------------ functions


def test_functions_share_runtime_architecture_and_code(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert {"WebhookFunction", "TriageFunction"} <= set(functions)
    for name, props in functions.items():
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["CodeUri"] == "functions/", name
        assert props["Tracing"] == "Active", name


def test_webhook_routes(template: dict[str, Any]) -> None:
    events = _functions(template)["WebhookFunction"]["Events"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in events.values()
        if e["Type"] == "HttpApi" and e["Properties"].get("ApiId") == {"Ref": "HttpApi"}
    }
    assert routes == {("GET", "/webhooks/{platform}"), ("POST", "/webhooks/{platform}"), ("GET", "/health")}
    # Platforms and uptime probes call these without a token: none names an authorizer.
    assert all("Auth" not in e["Properties"] for e in events.values() if e["Type"] == "HttpApi")


def test_the_webhook_may_probe_ingest_queue_for_health_and_nothing_more(template: dict[str, Any]) -> None:
    statements = [s for policy in _functions(template)["WebhookFunction"]["Policies"]
                  for s in (policy.get("Statement") or []) if isinstance(policy, dict)]
    [probe] = [s for s in statements if s.get("Action") == "sqs:GetQueueAttributes"]
    assert probe["Resource"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}


def test_max_body_parameter_within_the_http_api_limit(template: dict[str, Any]) -> None:
    param = template["Parameters"]["MaxWebhookBodyBytes"]
    assert param["Type"] == "Number"
    assert 0 < param["Default"] <= param["MaxValue"] <= 10 * 1024 * 1024
    env = _functions(template)["WebhookFunction"]["Environment"]["Variables"]
    assert env["MAX_BODY_BYTES"] == {"Ref": "MaxWebhookBodyBytes"}


def test_one_environment_variable_name_means_one_thing(template: dict[str, Any]) -> None:
    # The local stack runs every handler in one process with the union of the environments.
    seen: dict[str, tuple[str, Any]] = {}
    for fn_name, props in _functions(template).items():
        for var, value in props.get("Environment", {}).get("Variables", {}).items():
            if var in seen:
                other_fn, other_value = seen[var]
                assert value == other_value, f"{var}: {fn_name} has {value}, {other_fn} has {other_value}"
            else:
                seen[var] = (fn_name, value)


def test_environment_values_stay_simple(template: dict[str, Any]) -> None:
    # The local stack resolves only plain strings, !Ref, !GetAtt X.Arn and simple !Sub.
    for fn_name, props in _functions(template).items():
        for var, value in props.get("Environment", {}).get("Variables", {}).items():
            if isinstance(value, str):
                continue
            assert isinstance(value, dict) and len(value) == 1, f"{fn_name}.{var}"
            ((kind, arg),) = value.items()
            assert kind in {"Ref", "Fn::GetAtt", "Fn::Sub"}, f"{fn_name}.{var} uses {kind}"
            if kind == "Fn::GetAtt":
                assert arg[1] == "Arn", f"{fn_name}.{var}"
            if kind == "Fn::Sub":
                assert isinstance(arg, str), f"{fn_name}.{var}: use the one-string form of !Sub"


# ------------------------------------------------------------------ least privilege


def _secret_grants(policies: list[Any]) -> list[Any]:
    """What each policy entry lets the function read from Secrets Manager ("*" for anything)."""
    grants: list[Any] = []
    for policy in policies:
        if isinstance(policy, str):
            if any(broad in policy for broad in BROAD_SECRET_MANAGED_POLICIES):
                grants.append("*")
            continue
        if not isinstance(policy, dict):
            grants.append("*")  # an intrinsic we cannot see through: treat as broad
            continue
        for template_name, param in SECRET_READING_POLICY_TEMPLATES.items():
            if template_name in policy:
                grants.append(policy[template_name][param])
        for statement in policy.get("Statement", []):
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if any(a.lower() in SECRET_READ_ACTIONS for a in actions):
                resources = statement.get("Resource", "*")
                grants.extend(resources if isinstance(resources, list) else [resources])
    return grants


def test_only_the_actions_function_reads_secrets_other_than_webhook_secrets(template: dict[str, Any]) -> None:
    for fn_name, props in _functions(template).items():
        assert "Role" not in props, f"{fn_name}: use Policies so the grants stay reviewable here"
        if fn_name == ACTIONS_FUNCTION:
            continue
        for grant in _secret_grants(props.get("Policies", [])):
            # The enrich function reads the tokens too (a mention's text needs the Page token), nothing else.
            allowed = [WEBHOOK_SECRET, {"Ref": "PlatformTokens"}] if fn_name == "EnrichFunction" else [WEBHOOK_SECRET]
            assert grant in allowed, f"{fn_name} may read {grant}, not only WebhookSecrets"


def test_triage_reads_no_secret(template: dict[str, Any]) -> None:
    triage = _functions(template)["TriageFunction"]
    assert _secret_grants(triage.get("Policies", [])) == []
    assert not any("SECRET" in var for var in triage["Environment"]["Variables"])


def test_webhook_reads_exactly_the_webhook_secret(template: dict[str, Any]) -> None:
    webhook = _functions(template)["WebhookFunction"]
    assert _secret_grants(webhook["Policies"]) == [WEBHOOK_SECRET]
    assert webhook["Environment"]["Variables"]["WEBHOOK_SECRET_ID"] == WEBHOOK_SECRET


# SAM policy templates that grant S3 access beyond writing one object.
S3_POLICY_TEMPLATES = ("S3WritePolicy", "S3CrudPolicy", "S3FullAccessPolicy", "S3ReadPolicy")


def _s3_statements(policies: list[Any]) -> list[dict[str, Any]]:
    found = []
    for policy in policies:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if any(a.lower().startswith("s3:") or a == "*" for a in actions):
                found.append(statement)
    return found


def test_webhook_may_only_put_claim_checked_deliveries(template: dict[str, Any]) -> None:
    from moderato.adapters.ingest_queue import CLAIM_CHECK_PREFIX

    policies = _functions(template)["WebhookFunction"]["Policies"]
    templates = [name for policy in policies if isinstance(policy, dict) for name in policy
                 if name in S3_POLICY_TEMPLATES]
    assert templates == [], f"the webhook has S3 policy templates {templates} (they grant ACLs, lifecycle...)"
    [statement] = _s3_statements(policies)
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    assert statement["Effect"] == "Allow" and actions == ["s3:PutObject"]
    assert "Condition" not in statement and "NotResource" not in statement
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    normalized = [r["Fn::Sub"].replace("${DeliveryBucket.Arn}", "arn:${AWS::Partition}:s3:::${DeliveryBucket}")
                  for r in resources]
    assert normalized == [f"arn:${{AWS::Partition}}:s3:::${{DeliveryBucket}}/{CLAIM_CHECK_PREFIX}*"]


def test_policies_are_scoped_to_named_resources(template: dict[str, Any]) -> None:
    for fn_name, props in _functions(template).items():
        for policy in props.get("Policies", []):
            assert isinstance(policy, dict), f"{fn_name}: managed policy {policy!r} is not least privilege"
            for statement in policy.get("Statement", []):
                resources = statement.get("Resource")
                resources = resources if isinstance(resources, list) else [resources]
                assert "*" not in resources, f"{fn_name}: statement {statement.get('Sid')} on '*'"


def test_webhook_secret_commits_nothing_real(resources: dict[str, Any]) -> None:
    props = resources["WebhookSecrets"]["Properties"]
    assert "SecretString" not in props
    generated = props["GenerateSecretString"]
    shape = loads_template(generated["SecretStringTemplate"])  # JSON is YAML
    assert set(shape) >= {"meta", "x"}
    assert set(shape["meta"]) == {"app_secret", "verify_token"}
    assert set(shape["x"]) == {"consumer_secret"}
    assert all(value == "" for platform in shape.values() for value in platform.values())


# ------------------------------------------------------------------ tables and storage


@pytest.mark.parametrize(
    ("table", "ttl_attribute"),
    [("CasesTable", "expires_at"), ("SignalsTable", "expires_at")],
)
def test_tables_expire_items_by_ttl(resources: dict[str, Any], table: str, ttl_attribute: str) -> None:
    props = resources[table]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": ttl_attribute, "Enabled": True}


def test_cases_table_is_kept_and_recoverable(resources: dict[str, Any]) -> None:
    table = resources["CasesTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {gsi["IndexName"]: gsi for gsi in props["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in indexes["ByQueueStatus"]["KeySchema"]] == ["gsi1pk", "gsi1sk"]
    assert [k["AttributeName"] for k in indexes["ByPerson"]["KeySchema"]] == ["gsi3pk", "gsi3sk"]
    assert set(indexes) == {"ByQueueStatus", "ByPerson"}  # no index nobody queries: each costs every write
    # The queue index carries what a listing filters on, never the case document (read by key after).
    queue = indexes["ByQueueStatus"]["Projection"]
    assert queue["ProjectionType"] == "INCLUDE" and not {"doc", "docz"} & set(queue["NonKeyAttributes"])
    assert set(queue["NonKeyAttributes"]) >= {"label", "platform", "brand", "created_at", "order_numbers"}
    # The person index carries what the guardrail and the person's case list read, never the post.
    person = indexes["ByPerson"]["Projection"]
    assert person["ProjectionType"] == "INCLUDE" and not {"doc", "docz"} & set(person["NonKeyAttributes"])
    # (the case id is the table key pk, which every index entry carries anyway)
    assert set(person["NonKeyAttributes"]) == {"label", "status", "platform", "created_at", "order_numbers"}


def test_delivery_bucket_is_private_encrypted_and_expiring(resources: dict[str, Any]) -> None:
    bucket = resources["DeliveryBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any(r["Status"] == "Enabled" and r.get("ExpirationInDays") for r in rules)


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in (
        "ApiUrl",
        "WebhookUrlMeta",
        "WebhookUrlX",
        "IngestQueueUrl",
        "SpamQueueUrl",
        "ComplaintQueueUrl",
        "CrisisQueueUrl",
        "CasesTableName",
        "AlertsTopicArn",
        "WebhookSecretsArn",
    ):
        assert name in outputs, name
    # A named (non-$default) stage is part of the invoke URL.
    assert "/${StageName}/" in outputs["ApiUrl"]["Value"]["Fn::Sub"]


# ------------------------------------------------------------------ packages

CLASSIFIER_LAYER = "ClassifierLayer"


def _classifier_api() -> set[str]:
    """The names ``moderato.classify`` exports (its ``__all__``), read without importing it (nor numpy)."""
    tree = ast.parse((ROOT / "functions" / "moderato" / "classify" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("moderato/classify/__init__.py has no __all__")


def _classifying_functions(template: dict[str, Any]) -> set[str]:
    """Functions whose handler module imports the classifier itself (not just normalize or confusables)."""
    api = _classifier_api()
    found = set()
    for name, props in _functions(template).items():
        module = props["Handler"].rsplit(".", 1)[0]
        tree = ast.parse((ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
        if any(_imports_the_classifier(node, api) for node in ast.walk(tree)):
            found.add(name)
    return found


def _imports_the_classifier(node: ast.AST, api: set[str]) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module == "moderato.classify":
        return any(alias.name in api for alias in node.names)
    return isinstance(node, ast.Import) and any(alias.name == "moderato.classify" for alias in node.names)


def test_the_classifier_layer_is_built_like_the_functions_it_serves(template: dict[str, Any]) -> None:
    layer = template["Resources"][CLASSIFIER_LAYER]
    function_globals = template["Globals"]["Function"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    props = layer["Properties"]
    assert props["ContentUri"] == "layers/classifier/"
    assert (ROOT / props["ContentUri"] / "requirements.txt").is_file()
    # Its Makefile fetches numpy's wheels for this runtime and CPU (native code) and compiles them for it.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    for makefile in (ROOT / props["ContentUri"] / "Makefile", ROOT / function_globals["CodeUri"] / "Makefile"):
        version = function_globals["Runtime"].removeprefix("python")
        assert f"RUNTIME_VERSION ?= {version}\n" in makefile.read_text(encoding="utf-8"), makefile
    assert [layer["Metadata"]["BuildArchitecture"]] == function_globals["Architectures"]
    assert function_globals["Runtime"] in props["CompatibleRuntimes"]
    assert props["CompatibleArchitectures"] == function_globals["Architectures"]


def test_only_the_functions_that_classify_get_the_classifier_layer(template: dict[str, Any]) -> None:
    # numpy is in no function's own package (tests/unit/test_requirements.py): a classifying function
    # without the layer fails at import; any other with it ships ~70 MB it never loads. That the others
    # really import without numpy is checked in tests/integration/test_function_packages.py.
    with_layer = {name for name, props in _functions(template).items()
                  if {"Ref": CLASSIFIER_LAYER} in (props.get("Layers") or [])}
    classifying = _classifying_functions(template)
    assert {"TriageFunction", "EnrichFunction"} <= classifying
    assert with_layer == classifying, (
        f"ClassifierLayer goes to {sorted(with_layer)}, the functions that classify are {sorted(classifying)}")


def test_no_function_takes_other_layers_or_sets_layers_globally(template: dict[str, Any]) -> None:
    # A Globals.Function Layers entry would give numpy to every function again.
    assert "Layers" not in template["Globals"]["Function"]
    for name, props in _functions(template).items():
        assert all(layer == {"Ref": CLASSIFIER_LAYER} for layer in props.get("Layers") or []), name
