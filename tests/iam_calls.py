"""Which AWS calls each component makes, and the IAM permissions those calls need.

A :class:`CallRecorder` registers a botocore ``provide-client-params`` handler on every session that
creates a client while it is active, so it sees each API call (service, operation, parameters) of
boto3, awswrangler and s3transfer alike, attributed to the component running at the time. Then
:func:`permissions` maps a call to the IAM actions and resource ARNs AWS checks for it (including
the KMS use that SSE-KMS buckets imply), and :func:`missing` compares them with Terraform's roles.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any
from urllib.parse import unquote

import botocore.session
import sqlglot
from sqlglot import exp

from athena_like import LAKE_TABLES
from terraform_iam import ACCOUNT, API_ID, KMS_KEY_ARN_TEMPLATE, Statement, allowed


@dataclass(frozen=True)
class Call:
    component: str
    service: str  # botocore service name, e.g. "s3", "sesv2", "bedrock-runtime"
    prefix: str  # IAM service prefix (the signing name), e.g. "s3", "ses", "bedrock"
    operation: str
    params: dict[str, Any] = field(hash=False, compare=False)


class CallRecorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.component: str | None = None

    def _hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.component is not None:
            service = model.service_model
            prefix = service.signing_name or service.endpoint_prefix
            self.calls.append(Call(self.component, service.service_name, prefix, model.name, dict(params)))

    @contextlib.contextmanager
    def installed(self) -> Iterator[CallRecorder]:
        original = botocore.session.Session.create_client
        hook = self._hook

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            session.register("provide-client-params", hook, unique_id="vitalflow-iam-recorder")
            return original(session, *args, **kwargs)

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]

    @contextlib.contextmanager
    def running(self, component: str) -> Iterator[None]:
        self.component = component
        try:
            yield
        finally:
            self.component = None


def objects_read(sql: str, views: dict[str, set[str]]) -> set[str]:
    """Tables and views a query reads, with the objects behind each view (Athena reads those too)."""
    tree = sqlglot.parse_one(sql, read="trino")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    pending = {t.name for t in tree.find_all(exp.Table)} - ctes
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        seen.add(name)
        pending |= views.get(name, set()) - seen
    return seen


def athena_query(component: str, sql: str, views: dict[str, set[str]], **where: str) -> Call:
    """One report query run through Athena (awswrangler, no CTAS) as a call to check: moto runs no SQL,
    so the tests run it on DuckDB and record what Athena would authorise against the caller.
    ``where``: workgroup, database, data_bucket, results_prefix."""
    return Call(
        component, "athena", "athena", "RunQuery", {"objects": sorted(objects_read(sql, views)), **where}
    )


def permissions(call: Call, region: str, keys: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(action, resource) pairs AWS authorises for this call. ``keys``: the KMS key of a bucket (or topic)
    encrypted with another key than the project's."""
    p, op = call.params, call.operation
    kms = KMS_KEY_ARN_TEMPLATE.format(region=region, account=ACCOUNT)
    if call.service == "s3":
        bucket = p.get("Bucket", "")
        kms = (keys or {}).get(bucket, kms)
        obj = f"arn:aws:s3:::{bucket}/{p.get('Key', '')}"
        if op in ("GetObject", "HeadObject"):
            action = "s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject"
            return [(action, obj), ("kms:Decrypt", kms)]
        if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", obj), ("kms:GenerateDataKey", kms), ("kms:Decrypt", kms)]
        if op == "CopyObject":
            source = p["CopySource"]
            source = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
            source_arn = "arn:aws:s3:::" + unquote(source.split("?", 1)[0].lstrip("/"))
            write = [("s3:PutObject", obj), ("kms:GenerateDataKey", kms), ("kms:Decrypt", kms)]
            return [("s3:GetObject", source_arn), *write]
        # Deleting one version (not adding a delete marker) is another action: s3:DeleteObjectVersion.
        if op == "DeleteObject":
            return [("s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject", obj)]
        if op == "DeleteObjects":
            return [
                (
                    "s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                    f"arn:aws:s3:::{bucket}/{o['Key']}",
                )
                for o in p["Delete"]["Objects"]
            ]
        if op in ("ListObjectsV2", "ListObjects", "HeadBucket"):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
        if op == "ListObjectVersions":
            return [("s3:ListBucketVersions", f"arn:aws:s3:::{bucket}")]
        if op == "AbortMultipartUpload":
            return [("s3:AbortMultipartUpload", obj)]
        return [(f"s3:{op}", f"arn:aws:s3:::{bucket}")]
    if call.service == "dynamodb":
        return [(f"dynamodb:{op}", f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{p['TableName']}")]
    if call.service == "events" and op == "PutEvents":
        buses = {e.get("EventBusName", "default") for e in p["Entries"]}
        return [
            (
                "events:PutEvents",
                b if b.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{b}",
            )
            for b in sorted(buses)
        ]
    if call.service == "glue":
        catalog = f"arn:aws:glue:{region}:{ACCOUNT}:catalog"
        if op in ("StartJobRun", "GetJobRun", "GetJobRuns", "GetJob"):
            return [(f"glue:{op}", f"arn:aws:glue:{region}:{ACCOUNT}:job/{p['JobName']}")]
        database = f"arn:aws:glue:{region}:{ACCOUNT}:database/{p['DatabaseName']}"
        resources = [catalog, database]
        if "TableName" in p:
            resources.append(f"arn:aws:glue:{region}:{ACCOUNT}:table/{p['DatabaseName']}/{p['TableName']}")
        return [(f"glue:{op}", r) for r in resources]
    if call.service == "sesv2" and op == "SendEmail":
        message = email.message_from_bytes(p["Content"]["Raw"]["Data"], policy=email.policy.default)
        identity = f"arn:aws:ses:{region}:{ACCOUNT}:identity/"
        sender = getaddresses([str(message["From"])])[0][1]
        needed = [("ses:SendEmail", identity + sender)]
        # In the SES sandbox the recipients are identities too, and SES authorises against them.
        needed += [("ses:SendEmail", identity + a) for _, a in getaddresses([str(message["To"])])]
        if p.get("ConfigurationSetName"):
            config_set = f"arn:aws:ses:{region}:{ACCOUNT}:configuration-set/{p['ConfigurationSetName']}"
            needed.append(("ses:SendEmail", config_set))
        return needed
    if call.service == "bedrock-runtime":
        model = p["modelId"]
        if model.startswith("arn:"):
            return [("bedrock:InvokeModel", model)]
        if model.split(".", 1)[0] in ("us", "eu", "apac", "global"):
            return [("bedrock:InvokeModel", f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{model}")]
        return [("bedrock:InvokeModel", f"arn:aws:bedrock:{region}::foundation-model/{model}")]
    if call.service == "athena" and op == "RunQuery":
        workgroup = f"arn:aws:athena:{region}:{ACCOUNT}:workgroup/{p['workgroup']}"
        catalog = f"arn:aws:glue:{region}:{ACCOUNT}:catalog"
        database = f"arn:aws:glue:{region}:{ACCOUNT}:database/{p['database']}"
        bucket = f"arn:aws:s3:::{p['data_bucket']}"
        needed = [
            (f"athena:{a}", workgroup)
            for a in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults")
        ]
        needed += [("glue:GetDatabase", catalog), ("glue:GetDatabase", database)]
        for name in p["objects"]:
            table = f"arn:aws:glue:{region}:{ACCOUNT}:table/{p['database']}/{name}"
            needed += [("glue:GetTable", catalog), ("glue:GetTable", database), ("glue:GetTable", table)]
            if name in LAKE_TABLES:  # lake tables: Athena reads their files as the caller
                needed += [
                    ("s3:GetObject", f"{bucket}/{LAKE_TABLES[name]}/dt=2026-11-22/part.parquet"),
                    ("kms:Decrypt", kms),
                ]
        results = f"{bucket}/{p['results_prefix']}query-id.csv"
        needed += [("s3:ListBucket", bucket), ("s3:GetBucketLocation", bucket)]
        needed += [("s3:PutObject", results), ("s3:GetObject", results), ("kms:GenerateDataKey", kms)]
        return needed
    if call.service == "athena":
        return [
            (f"athena:{op}", f"arn:aws:athena:{region}:{ACCOUNT}:workgroup/{p.get('WorkGroup', 'primary')}")
        ]
    if call.service == "sqs":
        name = p.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
        return [(f"sqs:{op}", f"arn:aws:sqs:{region}:{ACCOUNT}:{name}")]
    if call.service == "logs":
        group = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{p['logGroupName']}"
        if "logStreamName" in p:
            return [(f"logs:{op}", f"{group}:log-stream:{p['logStreamName']}")]
        return [(f"logs:{op}", group)]
    if call.service == "sns" and op == "Publish":  # an encrypted topic: the publisher uses its key
        key = (keys or {}).get(p["TopicArn"], kms)
        return [("sns:Publish", p["TopicArn"]), ("kms:GenerateDataKey", key), ("kms:Decrypt", key)]
    if call.service == "apigatewaymanagementapi":  # the live dashboard's API (stage "live")
        method = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}[op]
        connection = f"arn:aws:execute-api:{region}:{ACCOUNT}:{API_ID}/live/{method}/@connections/"
        return [("execute-api:ManageConnections", connection + p["ConnectionId"])]
    if call.service == "codebuild":
        ids = p.get("ids", [])
        projects = [p["projectName"]] if "projectName" in p else [i.split(":", 1)[0] for i in ids]
        return [(f"codebuild:{op}", f"arn:aws:codebuild:{region}:{ACCOUNT}:project/{n}") for n in projects]
    return [(f"{call.prefix}:{op}", "*")]


def missing(
    calls: list[Call],
    roles: dict[str, list[Statement]],
    role_of: dict[str, str],
    region: str,
    keys: Mapping[str, str] | None = None,
) -> list[str]:
    """Every (component, action, resource) the component's Terraform role does not allow."""
    gaps = []
    for call in calls:
        statements = roles.get(role_of[call.component], [])
        for action, resource in permissions(call, region, keys):
            if not allowed(statements, action, resource):
                gaps.append(f"{call.component} ({role_of[call.component]}): {action} on {resource}")
    return sorted(set(gaps))
