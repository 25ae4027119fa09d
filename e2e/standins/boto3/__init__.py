"""boto3 stand-in of the local lake: glue.get_table (answered from the assembly's AWS::Glue::Table resources) and cloudwatch.put_metric_data (recorded).

The driver writes them to $E2E_RUN_DIR/catalog.json ({database: {table: TableInput}}).
Any other client or call fails loudly.
"""
import json
import os


class _Glue:
    def get_table(self, DatabaseName, Name, **kwargs):
        with open(os.path.join(os.environ["E2E_RUN_DIR"], "catalog.json")) as f:
            catalog = json.load(f)
        table = (catalog.get(DatabaseName) or {}).get(Name)
        if table is None:
            raise LookupError(f"EntityNotFoundException: Table {Name} not found in database {DatabaseName} (local catalog)")
        return {"Table": dict(table, DatabaseName=DatabaseName)}

    def __getattr__(self, name):
        raise NotImplementedError(f"e2e boto3 stand-in: glue.{name} is not emulated")


class _CloudWatch:
    """put_metric_data only: appended to $E2E_RUN_DIR/cloudwatch.jsonl for the driver to read."""

    def put_metric_data(self, Namespace, MetricData, **kwargs):
        if kwargs:
            raise NotImplementedError(f"e2e boto3 stand-in: put_metric_data arguments {sorted(kwargs)} are not emulated")
        with open(os.path.join(os.environ["E2E_RUN_DIR"], "cloudwatch.jsonl"), "a") as f:
            f.write(json.dumps({"Namespace": Namespace, "MetricData": MetricData}, default=str) + "\n")
        return {}

    def __getattr__(self, name):
        raise NotImplementedError(f"e2e boto3 stand-in: cloudwatch.{name} is not emulated")


def client(service, *args, **kwargs):
    if service == "glue":
        return _Glue()
    if service == "cloudwatch":
        return _CloudWatch()
    raise NotImplementedError(f"e2e boto3 stand-in: client({service!r}) is not emulated")
