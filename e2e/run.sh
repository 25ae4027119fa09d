#!/usr/bin/env bash
# The local lake: runs the synthesized data path end to end on this machine.
#   bash e2e/run.sh                 synthesize dev into cdk.out.e2e/, then run it
#   bash e2e/run.sh ASSEMBLY_DIR    run an existing cloud assembly
#   bash e2e/run.sh --bench [ASSEMBLY_DIR] [bench options]   make bench-etl (e2e/bench_etl.py)
# Everything it downloads or builds goes to .cache/e2e/ and .venv/ (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="$ROOT/.cache/e2e"
VENV="$ROOT/.venv"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
export JAVA_HOME
mkdir -p "$CACHE"
log() { echo "e2e: $*" >&2; }
MAIN=driver.py
if [[ "${1:-}" == "--bench" ]]; then MAIN=bench_etl.py; shift; fi

# 1. Python engines (pinned in e2e/requirements.txt)
req_sum="$(sha256sum e2e/requirements.txt | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.e2e-requirements" 2>/dev/null)" != "$req_sum" ]]; then
  log "installing e2e/requirements.txt into .venv/ (first run: pyspark is a 317 MB download)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  if [[ -d "$CACHE/wheels" ]]; then  # offline machines: pip download -r e2e/requirements.txt -d .cache/e2e/wheels
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$CACHE/wheels" -r e2e/requirements.txt
  else
    "$VENV/bin/pip" install -q --disable-pip-version-check -r e2e/requirements.txt
  fi
  echo "$req_sum" > "$VENV/.e2e-requirements"
fi
PYSPARK_JARS="$("$VENV/bin/python" -c 'import os,pyspark;print(os.path.join(os.path.dirname(pyspark.__file__),"jars"))')"

# 2. Velocity, Jackson, the Iceberg Spark runtime and SQLite JDBC from Maven Central, checked against e2e/jars.txt
mkdir -p "$CACHE/jars"
CP=""
while read -r path sum; do
  [[ -z "$path" || "$path" == \#* ]] && continue
  jar="$CACHE/jars/$(basename "$path")"
  if [[ ! -f "$jar" ]] || ! echo "$sum  $jar" | sha256sum -c --status; then
    log "downloading $path"
    curl -sfL --retry 3 -o "$jar.part" "https://repo1.maven.org/maven2/$path"
    echo "$sum  $jar.part" | sha256sum -c --status || { log "sha256 mismatch for $path"; exit 1; }
    mv "$jar.part" "$jar"
  fi
  CP="$CP$jar:"
done < e2e/jars.txt

# 3. the Java stand-ins (template runner, s3 -> local Hadoop FileSystem)
java_sum="$(cat e2e/java/e2e/*.java e2e/jars.txt | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$CACHE/classes/.stamp" 2>/dev/null)" != "$java_sum" ]]; then
  log "compiling e2e/java"
  rm -rf "$CACHE/classes" && mkdir -p "$CACHE/classes"
  "$JAVA_HOME/bin/javac" -nowarn -d "$CACHE/classes" -cp "$CP$PYSPARK_JARS/hadoop-client-api-3.3.4.jar" e2e/java/e2e/*.java
  (cd "$CACHE/classes" && "$JAVA_HOME/bin/jar" cf "$CACHE/e2e-localfs.jar" e2e/LocalS3FileSystem*.class)
  echo "$java_sum" > "$CACHE/classes/.stamp"
fi

# 4. the assembly
if [[ $# -ge 1 && "$1" != --* ]]; then
  ASSEMBLY="$(cd "$1" && pwd)"; shift
else
  ASSEMBLY="$ROOT/cdk.out.e2e"
  log "synthesizing dev into cdk.out.e2e/"
  PATH="$ROOT/.tools/node_modules/.bin:$PATH" JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1 \
    cdk --no-notices synth --quiet -c env=dev -o cdk.out.e2e > "$CACHE/synth.log" 2>&1 \
    || { cat "$CACHE/synth.log" >&2; log "synth failed"; exit 1; }
fi

# 5. the validator Lambda: host build of the asset's source
log "building functions/validator for this machine"
mkdir -p "$CACHE/validator"
CGO_ENABLED=0 go build -o "$CACHE/validator/bootstrap" ./functions/validator

# Spark gets the s3 -> local FileSystem and the Iceberg runtime of Glue 5.0 (1.7.1)
export E2E_CACHE="$CACHE" E2E_VTL_CP="$CACHE/classes:$CP"
export E2E_SPARK_JARS="$CACHE/e2e-localfs.jar,$CACHE/jars/iceberg-spark-runtime-3.5_2.12-1.7.1.jar"
# the local Iceberg catalog's database (JDBC drivers must be on the driver's own class path)
export E2E_SPARK_DRIVER_CP="$CACHE/jars/sqlite-jdbc-3.46.1.3.jar"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}" PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python"
exec "$VENV/bin/python" "$ROOT/e2e/$MAIN" "$ASSEMBLY" "$@"
