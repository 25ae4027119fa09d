"""Local stand-ins of API Gateway (REST, AWS integration to Kinesis), Kinesis
Data Streams, Firehose (Kinesis source, Lambda processor, dynamic
partitioning, GZIP) and the Lambda Runtime API. Wired from the assembly."""
import base64
import datetime
import gzip
import hashlib
import http.server
import json
import os
import queue
import re
import subprocess
import threading
import time
import uuid

import jsonschema


class EmulationError(RuntimeError):
    """Something in the assembly the local lake does not emulate: fail loudly."""


def now_ms():
    return int(time.time() * 1000)


# ---- Velocity (one JVM for every template) ---------------------------------

class Vtl:
    def __init__(self, classpath, java="java"):
        self.proc = subprocess.Popen([java, "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", classpath, "e2e.VtlRunner"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.lock = threading.Lock()
        self.rendered = 0

    def render(self, template, body, context, params=None):
        job = {"template": template, "body": body, "context": context, "params": params or {}}
        with self.lock:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise EmulationError("the Velocity runner exited")
        out = json.loads(line)
        if "error" in out:
            raise EmulationError(f"mapping template failed in Velocity: {out['error']}")
        self.rendered += 1
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# ---- Kinesis Data Streams --------------------------------------------------

class Stream:
    def __init__(self, name, arn, shard_count):
        self.name, self.arn, self.shard_count = name, arn, shard_count
        self.shards = [[] for _ in range(shard_count)]
        self.seq = 0
        self.keys_by_request = []  # [(request label, [partition keys])]

    def shard_for(self, key):
        h = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
        return min(h * self.shard_count // (1 << 128), self.shard_count - 1)

    def _put(self, key, data_b64):
        if not isinstance(key, str) or not 1 <= len(key) <= 256:
            return {"ErrorCode": "ValidationException", "ErrorMessage": f"PartitionKey length must be 1..256: {key!r}"}
        data = base64.b64decode(data_b64, validate=True)
        if len(data) > 1024 * 1024:
            return {"ErrorCode": "ValidationException", "ErrorMessage": "Data over 1 MiB"}
        shard = self.shard_for(key)
        self.seq += 1
        seqno = f"4960{self.seq:052d}"
        self.shards[shard].append({"partitionKey": key, "data": data, "sequenceNumber": seqno,
                                   "shardId": f"shardId-{shard:012d}", "arrival": now_ms()})
        return {"SequenceNumber": seqno, "ShardId": f"shardId-{shard:012d}"}

    def api(self, action, request, label):
        """Kinesis JSON API: (http status, response dict)."""
        if request.get("StreamName") not in (self.name, None) and request.get("StreamARN") != self.arn:
            return 400, {"__type": "ResourceNotFoundException", "message": f"Stream {request.get('StreamName')} not found"}
        if action == "PutRecord":
            self.keys_by_request.append((label, [request.get("PartitionKey")]))
            r = self._put(request.get("PartitionKey"), request.get("Data", ""))
            if "ErrorCode" in r:
                return 400, {"__type": r["ErrorCode"], "message": r["ErrorMessage"]}
            return 200, r
        if action == "PutRecords":
            recs = request.get("Records") or []
            if not 1 <= len(recs) <= 500:
                return 400, {"__type": "ValidationException", "message": "Records must have 1..500 entries"}
            self.keys_by_request.append((label, [r.get("PartitionKey") for r in recs]))
            out = [self._put(r.get("PartitionKey"), r.get("Data", "")) for r in recs]
            return 200, {"FailedRecordCount": sum(1 for r in out if "ErrorCode" in r), "Records": out}
        raise EmulationError(f"Kinesis action {action} is not emulated")

    def read_all(self):
        """Every record, shard by shard, in sequence order (what a Firehose source reads)."""
        return [r for shard in self.shards for r in shard]


# ---- API Gateway -----------------------------------------------------------

class Api:
    def __init__(self, asm, stream, vtl):
        self.asm, self.stream, self.vtl = asm, stream, vtl
        self.methods = {}
        self.requests = []
        for stack, lid, r in asm.resources("AWS::ApiGateway::Method"):
            p = r["Properties"]
            path = self._path(stack, p["ResourceId"])
            integ = p.get("Integration") or {}
            if integ.get("Type") != "AWS":
                raise EmulationError(f"{lid}: integration type {integ.get('Type')} is not emulated")
            uri = asm.resolve(stack, integ["Uri"])
            m = re.match(r"^arn:aws:apigateway:[^:]+:kinesis:action/(\w+)$", uri)
            if not m:
                raise EmulationError(f"{lid}: integration URI {uri} is not emulated (Kinesis actions only)")
            models = {}
            for ctype, ref in (p.get("RequestModels") or {}).items():
                mp = asm.props(stack, asm.ref_target(stack, ref))
                models[ctype] = mp["Schema"]
            validator = {}
            if p.get("RequestValidatorId"):
                validator = asm.props(stack, asm.ref_target(stack, p["RequestValidatorId"]))
            self.methods[(p["HttpMethod"], path)] = {
                "id": lid, "action": m.group(1), "models": models, "validator": validator,
                "params": p.get("RequestParameters") or {},
                "templates": asm.resolve(stack, integ.get("RequestTemplates") or {}),
                "passthrough": integ.get("PassthroughBehavior", "WHEN_NO_MATCH"),
                "responses": asm.resolve(stack, integ.get("IntegrationResponses") or []),
            }

    def _path(self, stack, ref):
        lid = self.asm.ref_target(stack, ref)
        r = self.asm.resource(stack, lid)
        if r["Type"] == "AWS::ApiGateway::RestApi":
            return ""
        p = r["Properties"]
        return self._path(stack, p["ParentId"]) + "/" + p["PathPart"]

    def routes(self):
        return sorted(self.methods)

    def request(self, method, path, body_text, headers=None):
        """(status, response body dict/text, request id)."""
        headers = {k.lower(): v for k, v in (headers or {"Content-Type": "application/json"}).items()}
        m = self.methods.get((method, path))
        request_id = str(uuid.uuid4())
        rec = {"method": method, "path": path, "request_id": request_id}
        self.requests.append(rec)
        if m is None:
            rec["status"] = 403
            return 403, {"message": "Missing Authentication Token"}, request_id
        ctype = headers.get("content-type", "application/json").split(";")[0].strip()
        v = m["validator"]
        if v.get("ValidateRequestParameters"):
            for name, required in m["params"].items():
                if required and name.startswith("method.request.header."):
                    if name.split(".", 3)[3].lower() not in headers:
                        rec["status"] = 400
                        return 400, {"message": f"Missing required request parameters: [{name.split('.', 3)[3]}]"}, request_id
        if v.get("ValidateRequestBody") and ctype in m["models"]:
            try:
                body = json.loads(body_text)
            except ValueError:
                rec["status"] = 400
                return 400, {"message": "Invalid request body"}, request_id
            errors = sorted(jsonschema.Draft4Validator(m["models"][ctype]).iter_errors(body), key=str)
            if errors:
                rec["status"] = 400
                rec["errors"] = [e.message for e in errors]
                return 400, {"message": "Invalid request body", "errors": rec["errors"]}, request_id
        template = m["templates"].get(ctype)
        if template is None:
            raise EmulationError(f"{m['id']}: no request template for {ctype} (passthrough {m['passthrough']} not emulated)")
        epoch = max(now_ms(), getattr(self, "_last_epoch", 0) + 1)
        self._last_epoch = epoch
        rec["epoch"] = epoch
        context = {"requestId": request_id, "extendedRequestId": request_id, "requestTimeEpoch": epoch,
                   "httpMethod": method, "resourcePath": path, "path": "/e2e" + path, "stage": "e2e",
                   "identity": {"sourceIp": "127.0.0.1", "userAgent": "e2e"}}
        params = {"header": headers, "path": {}, "querystring": {}}
        rendered = self.vtl.render(template, body_text, context, params)["output"]
        try:
            kinesis_request = json.loads(rendered)
        except ValueError as exc:
            raise EmulationError(f"{m['id']}: the request template did not render JSON ({exc}): {rendered[:300]}")
        rec["kinesis_request"] = kinesis_request
        kstatus, kresp = self.stream.api(m["action"], kinesis_request, f"{method} {path} {request_id}")
        selected = None
        for ir in m["responses"]:
            pat = ir.get("SelectionPattern")
            if pat is None or pat == "":
                if kstatus // 100 == 2 and selected is None:
                    selected = ir
            elif re.fullmatch(pat, str(kstatus)):
                selected = ir
                break
        if selected is None:
            raise EmulationError(f"{m['id']}: no integration response for Kinesis status {kstatus}")
        out = self.vtl.render((selected.get("ResponseTemplates") or {}).get("application/json", "$input.body"),
                              json.dumps(kresp), context)
        status = int(out.get("status") or selected["StatusCode"])
        rec["status"] = status
        try:
            return status, json.loads(out["output"]), request_id
        except ValueError:
            raise EmulationError(f"{m['id']}: response template did not render JSON: {out['output'][:300]}")


# ---- Lambda Runtime API ----------------------------------------------------

class LambdaRuntime:
    """Runs a Lambda binary (custom runtime) against a local Runtime API."""

    def __init__(self, binary, env, arn):
        self.arn = arn
        self.pending = queue.Queue()
        self.results = {}
        self.done = {}
        self.logs = []
        self.init_error = None
        rt = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                rid, payload = rt.pending.get()
                body = payload.encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(now_ms() + 120000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", rt.arn)
                self.send_header("Lambda-Runtime-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    body = b"".join(chunks).decode()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                m = re.match(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if m:
                    rt.results[m.group(1)] = (m.group(2), body)
                    rt.done[m.group(1)].set()
                elif self.path == "/2018-06-01/runtime/init/error":
                    rt.init_error = body
                else:
                    self.send_error(404)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        full_env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.server.server_port}",
                    "AWS_REGION": arn.split(":")[3], "AWS_LAMBDA_FUNCTION_NAME": arn.rsplit(":", 1)[-1],
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "LAMBDA_TASK_ROOT": os.path.dirname(binary), "_HANDLER": "bootstrap", "TZ": "UTC"}
        full_env.update(env)
        self.proc = subprocess.Popen([binary], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=os.path.dirname(binary))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.logs.append(line.rstrip("\n"))

    def invoke(self, event, timeout=60):
        rid = str(uuid.uuid4())
        self.done[rid] = threading.Event()
        self.pending.put((rid, json.dumps(event)))
        deadline = time.time() + timeout
        while not self.done[rid].wait(0.05):
            if self.proc.poll() is not None:
                raise EmulationError(f"the Lambda process exited with {self.proc.returncode} (init error: {self.init_error}); "
                                     f"log: {' | '.join(self.logs[-5:])}")
            if time.time() > deadline:
                raise EmulationError("Lambda invocation timed out")
        kind, body = self.results.pop(rid)
        if kind == "error":
            raise EmulationError(f"the Lambda returned an error: {body} (log: {' | '.join(self.logs[-5:])})")
        return json.loads(body)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.server.shutdown()


# ---- Firehose --------------------------------------------------------------

def java_time_format(fmt, when):
    """Firehose !{timestamp:...}: Java DateTimeFormatter letters used in prefixes."""
    out, i = "", 0
    tokens = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]
    while i < len(fmt):
        for tok, py in tokens:
            if fmt.startswith(tok, i):
                out += when.strftime(py)
                i += len(tok)
                break
        else:
            if fmt[i].isalpha():
                raise EmulationError(f"timestamp format letter {fmt[i]!r} in {fmt!r} is not emulated")
            out += fmt[i]
            i += 1
    return out


class Firehose:
    def __init__(self, asm, stack, lid, s3_root, lambdas):
        self.asm = asm
        p = asm.props(stack, lid)
        self.name = asm.physical_id(stack, lid)
        self.arn = asm.arn(stack, lid)
        if p.get("DeliveryStreamType") != "KinesisStreamAsSource":
            raise EmulationError(f"{lid}: DeliveryStreamType {p.get('DeliveryStreamType')} is not emulated")
        self.source_arn = p["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
        d = p.get("ExtendedS3DestinationConfiguration")
        if not d:
            raise EmulationError(f"{lid}: only ExtendedS3DestinationConfiguration is emulated")
        self.bucket = d["BucketARN"].split(":::", 1)[1]
        self.prefix = d.get("Prefix", "")
        self.error_prefix = d.get("ErrorOutputPrefix", "")
        self.compression = d.get("CompressionFormat", "UNCOMPRESSED")
        if self.compression not in ("GZIP", "UNCOMPRESSED"):
            raise EmulationError(f"{lid}: CompressionFormat {self.compression} is not emulated")
        self.extension = d.get("FileExtension", ".gz" if self.compression == "GZIP" else "")
        self.dynamic = bool((d.get("DynamicPartitioningConfiguration") or {}).get("Enabled"))
        self.s3_root = s3_root
        self.lambda_ = None
        self.lambda_arn = None
        self.delimiter = False
        self.lambda_records = 500
        proc = d.get("ProcessingConfiguration") or {}
        if proc.get("Enabled"):
            for pr in proc.get("Processors", []):
                params = {x["ParameterName"]: x["ParameterValue"] for x in pr.get("Parameters", [])}
                if pr["Type"] == "Lambda":
                    self.lambda_arn = params["LambdaArn"]
                    if self.lambda_arn not in lambdas:
                        raise EmulationError(f"{lid}: processor Lambda {self.lambda_arn} is not in the assembly")
                    self.lambda_ = lambdas[self.lambda_arn]
                    self.lambda_mb = float(params.get("BufferSizeInMBs", "1"))
                elif pr["Type"] == "AppendDelimiterToRecord":
                    if params.get("Delimiter") not in (None, "\\n"):
                        raise EmulationError(f"{lid}: AppendDelimiterToRecord Delimiter {params['Delimiter']!r} is not emulated")
                    self.delimiter = True
                else:
                    raise EmulationError(f"{lid}: processor type {pr['Type']} is not emulated")
        for expr in re.findall(r"!\{([^}]*)\}", self.prefix + self.error_prefix):
            ns = expr.split(":", 1)[0]
            if ns not in ("partitionKeyFromLambda", "timestamp", "firehose"):
                raise EmulationError(f"{lid}: prefix expression !{{{expr}}} is not emulated")
            if ns == "firehose" and expr not in ("firehose:error-output-type", "firehose:random-string"):
                raise EmulationError(f"{lid}: prefix expression !{{{expr}}} is not emulated")
            if expr == "firehose:error-output-type" and expr in self.prefix:
                raise EmulationError(f"{lid}: !{{firehose:error-output-type}} is only valid in ErrorOutputPrefix")
        self.stats = {"read": 0, "Ok": 0, "ProcessingFailed": 0, "Dropped": 0, "partitioning-failed": 0,
                      "invocations": 0, "objects": 0}
        self.record_ids = {}  # recordId -> stream record
        self.written = []

    def _expand(self, template, keys, arrival, error_type=None):
        def sub(m):
            ns, _, arg = m.group(1).partition(":")
            if ns == "partitionKeyFromLambda":
                if keys is None or arg not in keys:
                    raise KeyError(arg)
                return str(keys[arg])
            if ns == "timestamp":
                return java_time_format(arg, arrival)
            if m.group(1) == "firehose:error-output-type":
                return error_type
            if m.group(1) == "firehose:random-string":
                return uuid.uuid4().hex[:11]
            raise EmulationError(f"prefix expression !{{{m.group(1)}}} is not emulated")
        return re.sub(r"!\{([^}]*)\}", sub, template)

    def _object_key(self, prefix, first_arrival, ext):
        stamp = first_arrival.strftime("%Y-%m-%d-%H-%M-%S")
        return f"{prefix}{self.name}-1-{stamp}-{uuid.uuid4()}{ext}"

    def deliver(self, records):
        """Process stream records through the Lambda and write the S3 objects of one buffer flush."""
        outputs = {}  # s3 key prefix -> [bytes]
        errors = {}
        invocations = []
        batch, size = [], 0
        for r in records:
            self.stats["read"] += 1
            if batch and (len(batch) >= self.lambda_records or size + len(r["data"]) > self.lambda_mb * 1024 * 1024 * 0.75):
                invocations.append(batch)
                batch, size = [], 0
            batch.append(r)
            size += len(r["data"])
        if batch:
            invocations.append(batch)
        for batch in invocations:
            event_records, by_id = [], {}
            for r in batch:
                rid = f"{r['sequenceNumber']}{uuid.uuid4().hex[:16]}"
                by_id[rid] = r
                self.record_ids[rid] = r
                event_records.append({
                    "recordId": rid, "approximateArrivalTimestamp": r["arrival"],
                    "data": base64.b64encode(r["data"]).decode(),
                    "kinesisRecordMetadata": {"shardId": r["shardId"], "partitionKey": r["partitionKey"],
                                              "approximateArrivalTimestamp": r["arrival"],
                                              "sequenceNumber": r["sequenceNumber"], "subsequenceNumber": 0}})
            if self.lambda_ is None:
                results = [{"recordId": e["recordId"], "result": "Ok", "data": e["data"]} for e in event_records]
            else:
                event = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": self.arn,
                         "sourceKinesisStreamArn": self.source_arn, "region": self.arn.split(":")[3],
                         "records": event_records}
                self.stats["invocations"] += 1
                resp = self.lambda_.invoke(event)
                results = resp.get("records")
                if not isinstance(results, list) or [x.get("recordId") for x in results] != [e["recordId"] for e in event_records]:
                    raise EmulationError("the Lambda response does not return every recordId exactly once, in order "
                                         "(Firehose would fail the whole batch as Lambda.InvalidRecordId / MissingRecordId)")
            for res in results:
                r = by_id[res["recordId"]]
                arrival = datetime.datetime.fromtimestamp(r["arrival"] / 1000, datetime.timezone.utc)
                status = res.get("result")
                if status not in ("Ok", "ProcessingFailed", "Dropped"):
                    raise EmulationError(f"Lambda result {status!r} is not Ok/ProcessingFailed/Dropped")
                self.stats[status] += 1
                if status == "Dropped":
                    continue
                if status == "ProcessingFailed":
                    self._error(errors, r, arrival, "processing-failed", "Lambda.ProcessingFailed",
                                "The Lambda function returned ProcessingFailed for the record.")
                    continue
                data = base64.b64decode(res.get("data") or "")
                keys = ((res.get("metadata") or {}).get("partitionKeys")) if self.dynamic else None
                try:
                    prefix = self._expand(self.prefix, keys, arrival)
                except KeyError as exc:
                    self.stats["Ok"] -= 1
                    self.stats["partitioning-failed"] += 1
                    self._error(errors, r, arrival, "partitioning-failed", "DynamicPartitioning.MissingPartitionKey",
                                f"partition key {exc} was not returned by the Lambda")
                    continue
                outputs.setdefault(prefix, []).append(data + (b"\n" if self.delimiter else b""))
        first = datetime.datetime.fromtimestamp(min((r["arrival"] for r in records), default=now_ms()) / 1000,
                                                datetime.timezone.utc)
        for prefix, chunks in outputs.items():
            self._write(self._object_key(prefix, first, self.extension), b"".join(chunks))
        for prefix, lines in errors.items():
            self._write(self._object_key(prefix, first, ".gz" if self.compression == "GZIP" else ""),
                        b"".join(lines))

    def _error(self, errors, r, arrival, error_type, code, message):
        prefix = self._expand(self.error_prefix, None, arrival, error_type)
        rec = {"attemptsMade": 1, "arrivalTimestamp": r["arrival"], "errorCode": code, "errorMessage": message,
               "attemptEndingTimestamp": now_ms(), "rawData": base64.b64encode(r["data"]).decode(),
               "lambdaArn": self.lambda_arn}
        errors.setdefault(prefix, []).append(json.dumps(rec).encode() + b"\n")

    def _write(self, key, body):
        if self.compression == "GZIP":
            body = gzip.compress(body, mtime=0)
        path = os.path.join(self.s3_root, self.bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
        self.stats["objects"] += 1
        self.written.append(f"s3://{self.bucket}/{key}")
