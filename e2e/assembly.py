"""Read a synthesized CDK cloud assembly: templates, intrinsics, exports, assets.

All wiring of the local lake comes from here (never from the Go or Python
source). Intrinsics: Ref, Fn::GetAtt, Fn::ImportValue, Fn::Join, Fn::Sub,
Fn::Select, Fn::Split; pseudo parameters get fixed local values. Anything
else raises.
"""
import glob
import json
import os
import re

ACCOUNT = "123456789012"


class AssemblyError(RuntimeError):
    pass


class Assembly:
    def __init__(self, path):
        self.path = path
        manifest = json.load(open(os.path.join(path, "manifest.json")))
        self.stacks, self.region = {}, {}
        for name, art in manifest.get("artifacts", {}).items():
            if art.get("type") != "aws:cloudformation:stack":
                continue
            tf = art["properties"]["templateFile"]
            self.stacks[name] = json.load(open(os.path.join(path, tf)))
            env = art.get("environment", "aws://unknown-account/unknown-region")
            region = env.rsplit("/", 1)[-1]
            self.region[name] = "us-east-1" if region.startswith("unknown") else region
        if not self.stacks:
            raise AssemblyError(f"no CloudFormation stacks in {path}")
        self.exports = {}
        for stack, t in self.stacks.items():
            for out in (t.get("Outputs") or {}).values():
                if "Export" in out:
                    self.exports[self.resolve(stack, out["Export"]["Name"])] = (stack, out["Value"])
        self.assets = {}
        for f in glob.glob(os.path.join(path, "*.assets.json")):
            for entry in json.load(open(f)).get("files", {}).values():
                local = os.path.join(path, entry["source"]["path"])
                for dest in entry["destinations"].values():
                    self.assets[dest["objectKey"]] = local

    # ---- resources ---------------------------------------------------------

    def resources(self, rtype):
        """[(stack, logical id, resource)] of one type, in template order."""
        out = []
        for stack, t in self.stacks.items():
            for lid, r in t.get("Resources", {}).items():
                if r["Type"] == rtype:
                    out.append((stack, lid, r))
        return out

    def resource(self, stack, lid):
        try:
            return self.stacks[stack]["Resources"][lid]
        except KeyError:
            raise AssemblyError(f"{stack}: no resource {lid}") from None

    def physical_id(self, stack, lid):
        r = self.resource(stack, lid)
        p = r.get("Properties", {})
        t = r["Type"]
        names = {
            "AWS::S3::Bucket": "BucketName", "AWS::Kinesis::Stream": "Name", "AWS::Glue::Job": "Name",
            "AWS::Lambda::Function": "FunctionName", "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
            "AWS::Athena::WorkGroup": "Name", "AWS::Glue::Workflow": "Name", "AWS::Glue::Trigger": "Name",
            "AWS::Logs::LogGroup": "LogGroupName", "AWS::ApiGateway::Model": "Name", "AWS::Glue::Crawler": "Name",
        }
        if t == "AWS::Glue::Database":
            return self.resolve(stack, p["DatabaseInput"]["Name"])
        if t in names and names[t] in p:
            return self.resolve(stack, p[names[t]])
        if t == "AWS::S3::Bucket":
            return f"{stack}-{lid}".lower()[:63]
        return f"{stack}-{lid}"

    def arn(self, stack, lid):
        t = self.resource(stack, lid)["Type"]
        name = self.physical_id(stack, lid)
        region = self.region[stack]
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Kinesis::Stream": f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
            "AWS::KinesisFirehose::DeliveryStream": f"arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{ACCOUNT}:key/{name}",
        }.get(t, f"arn:aws:e2e:{region}:{ACCOUNT}:{t}/{name}")

    # ---- intrinsics --------------------------------------------------------

    def _pseudo(self, stack, name):
        return {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region[stack], "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack, "AWS::NoValue": None}.get(name)

    def _ref(self, stack, name):
        if name.startswith("AWS::"):
            return self._pseudo(stack, name)
        if name in self.stacks[stack].get("Parameters", {}):
            return self.stacks[stack]["Parameters"][name].get("Default")
        return self.physical_id(stack, name)

    def _getatt(self, stack, lid, attr):
        if attr == "Arn":
            return self.arn(stack, lid)
        if attr == "RootResourceId":
            return f"{lid}.root"
        if attr in ("StreamArn",):
            return self.arn(stack, lid)
        return f"{self.physical_id(stack, lid)}.{attr}"

    def resolve(self, stack, v):
        if isinstance(v, list):
            return [self.resolve(stack, x) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return self._ref(stack, a)
            if k == "Fn::GetAtt":
                lid, attr = (a if isinstance(a, list) else a.split(".", 1))
                return self._getatt(stack, lid, attr)
            if k == "Fn::ImportValue":
                name = self.resolve(stack, a)
                if name not in self.exports:
                    raise AssemblyError(f"{stack}: Fn::ImportValue {name!r} is not exported by any stack")
                src, value = self.exports[name]
                return self.resolve(src, value)
            if k == "Fn::Join":
                sep, items = a
                return sep.join(str(x) for x in self.resolve(stack, items))
            if k == "Fn::Select":
                i, items = a
                return self.resolve(stack, items)[int(self.resolve(stack, i))]
            if k == "Fn::Split":
                sep, s = a
                return self.resolve(stack, s).split(sep)
            if k == "Fn::Sub":
                text, extra = (a, {}) if isinstance(a, str) else (a[0], self.resolve(stack, a[1]))

                def sub(m):
                    name = m.group(1)
                    if name in extra:
                        return str(extra[name])
                    if "." in name and not name.startswith("AWS::"):
                        lid, attr = name.split(".", 1)
                        return str(self._getatt(stack, lid, attr))
                    return str(self._ref(stack, name))
                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if k.startswith("Fn::") or k == "Condition":
                raise AssemblyError(f"{stack}: intrinsic {k} is not emulated by the local lake")
        return {k: self.resolve(stack, x) for k, x in v.items()}

    def props(self, stack, lid):
        return self.resolve(stack, self.resource(stack, lid).get("Properties", {}))

    def ref_target(self, stack, v):
        """The logical id a {"Ref": X} or {"Fn::GetAtt": [X, ...]} points at (same stack)."""
        if isinstance(v, dict) and "Ref" in v:
            return v["Ref"]
        if isinstance(v, dict) and "Fn::GetAtt" in v:
            a = v["Fn::GetAtt"]
            return a[0] if isinstance(a, list) else a.split(".")[0]
        raise AssemblyError(f"{stack}: expected a Ref/GetAtt, got {v!r}")

    def asset_for_s3(self, uri):
        """Local file of an s3://<cdk assets bucket>/<objectKey> (job scripts, zips)."""
        m = re.match(r"^s3://[^/]+/(.+)$", uri or "")
        if not m or m.group(1) not in self.assets:
            raise AssemblyError(f"{uri!r} is not an asset of this assembly")
        return self.assets[m.group(1)]
