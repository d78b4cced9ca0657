"""Static checks of deploy/: Kubernetes manifests, systemd units, container recipe.

Needs PyYAML, kubernetes-validate (Kubernetes manifests against the JSON schemas it bundles, offline)
and systemd-analyze (Debian's systemd), all installed by scripts/install-deps. A missing tool is a
failure, never a skip or a warning. Needs no tally binary and no cluster."""

import configparser
import os
import shlex
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
K8S_HA = DEPLOY / "k8s-ha"          # an overlay of K8S: several coordinator replicas on PostgreSQL
SYSTEMD = DEPLOY / "systemd"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"

# The Kubernetes version whose schemas the manifests are validated against, pinned so that a
# kubernetes-validate upgrade (which adds newer versions and drops old ones) does not move it.
K8S_VERSION = "1.32"

SOURCE_KINDS = {"http", "s3", "file"}
FORMATS = {"auto", "twingate-csv", "twingate-s3", "twingate-analytics"}


def run(cmd, timeout=120, env=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------------------------------------- k8s

def k8s_files():
    return sorted(p for p in K8S.iterdir() if p.suffix in (".yaml", ".yml"))


def k8s_docs():
    """{file name: [documents]}; empty documents (a trailing ---) are dropped."""
    out = {}
    for path in k8s_files():
        with open(path, encoding="utf-8") as f:
            out[path.name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return out


def resources():
    return [d for name, docs in k8s_docs().items() if name != "kustomization.yaml" for d in docs]


def find(kind, name):
    hits = [d for d in resources() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected exactly one {kind}/{name}, found {len(hits)}"
    return hits[0]


def container(workload, name):
    return next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def check_identity(docs_by_file):
    count = 0
    for name, docs in docs_by_file.items():
        assert docs, f"{name}: no YAML document"
        for d in docs:
            assert isinstance(d, dict), f"{name}: a document is not a mapping"
            for key in ("apiVersion", "kind"):
                assert d.get(key), f"{name}: document without {key}"
            assert (d.get("metadata") or {}).get("name"), f"{name}: {d['kind']} without metadata.name"
            count += 1
    return count


def test_k8s_every_document_parses_and_has_identity():
    names = {p.name for p in k8s_files()}
    assert {"namespace.yaml", "configmap.yaml", "secret.yaml", "coordinator.yaml", "workers.yaml",
            "kustomization.yaml"} <= names
    assert check_identity(k8s_docs()) >= 7


def test_kustomization_lists_exactly_the_files_present():
    (kust,) = k8s_docs()["kustomization.yaml"]
    assert kust["kind"] == "Kustomization"
    listed = kust["resources"]
    assert len(listed) == len(set(listed)), f"duplicate entries in kustomization resources: {listed}"
    present = {p.name for p in k8s_files()} - {"kustomization.yaml"}
    assert set(listed) == present
    # Every namespaced object names the kustomization's namespace, so `-f` on one file also lands there.
    ns = kust["namespace"]
    assert find("Namespace", ns)
    for d in resources():
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == ns, f"{d['kind']}/{d['metadata']['name']}"


def test_workers_point_at_the_coordinator_service():
    ns = k8s_docs()["kustomization.yaml"][0]["namespace"]
    svc = find("Service", "tally-coordinator")
    workers = find("Deployment", "tally-worker")
    assert workers["spec"]["replicas"] == 4
    pod = workers["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30
    c = container(workers, "worker")
    assert c["image"] == "tally:latest" and c["args"][0] == "worker"
    assert c["resources"]["limits"]["memory"] == "512Mi"
    env = {e["name"]: e.get("value") for e in c["env"]}
    url = urllib.parse.urlsplit(env["TALLY_COORDINATOR"])
    assert url.scheme == "http"
    name = svc["metadata"]["name"]
    assert url.hostname in {name, f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"}
    assert url.port in {p["port"] for p in svc["spec"]["ports"]}
    secret = find("Secret", "tally-aws")
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in c["envFrom"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        assert key in secret["stringData"]


def test_coordinator_service_reaches_the_statefulset():
    svc = find("Service", "tally-coordinator")
    sts = find("StatefulSet", "tally-coordinator")
    assert sts["spec"]["replicas"] == 1
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert sts["spec"]["selector"]["matchLabels"].items() <= labels.items()
    headless = find("Service", sts["spec"]["serviceName"])
    assert headless["spec"].get("clusterIP") == "None"
    c = container(sts, "coordinator")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for p in svc["spec"]["ports"]:
        assert p["targetPort"] in ports or p["targetPort"] in ports.values()
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/healthz", probe
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    # The workers' and Prometheus's tokens are imported from keys the Secret has, before the
    # coordinator starts (/metrics needs a monitor token, which scrape annotations cannot carry).
    secret = find("Secret", "tally-tokens")
    imported = {}
    for init in sts["spec"]["template"]["spec"]["initContainers"]:
        args = init["args"]
        assert args[:2] == ["token", "create"] and "--secret-file" in args, args
        imported[args[args.index("--role") + 1]] = args[args.index("--secret-file") + 1].rsplit("/", 1)[1]
    assert imported == {"worker": "worker", "monitor": "monitor"}
    assert set(imported.values()) <= secret["stringData"].keys()


def test_configmap_tally_yaml_matches_the_coordinator():
    cm = find("ConfigMap", "tally-config")
    cfg = yaml.safe_load(cm["data"]["tally.yaml"])
    sources = cfg["sources"]
    assert sources, "no sources"
    for s in sources:
        for key in ("name", "kind", "url", "format"):
            assert s.get(key), f"source {s} without {key}"
        assert s["kind"] in SOURCE_KINDS and s["format"] in FORMATS
    assert len({s["name"] for s in sources}) == len(sources)
    # The config is mounted at /etc/tally, the data dir is a claim from the volumeClaimTemplate,
    # and the listen port is the container port.
    sts = find("StatefulSet", "tally-coordinator")
    c = container(sts, "coordinator")
    args = c["args"]
    assert args[0] == "coordinator"
    assert args[args.index("--config") + 1] == "/etc/tally/tally.yaml"
    data_dir = args[args.index("--data-dir") + 1] if "--data-dir" in args else cfg["data_dir"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    assert mounts[data_dir] in claims
    vols = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert vols[mounts["/etc/tally"]]["configMap"]["name"] == "tally-config"
    assert int(cfg["listen"].rsplit(":", 1)[1]) in {p["containerPort"] for p in c["ports"]}


def kubernetes_validate():
    try:
        import kubernetes_validate
    except ImportError as e:
        pytest.fail(f"kubernetes-validate is not installed ({e}): install with scripts/install-deps", pytrace=False)
    return kubernetes_validate


def schema_error(doc):
    """None when `doc` validates strictly (unknown fields rejected) against the bundled schema of its
    apiVersion and kind for K8S_VERSION; else what is wrong. A kind with no bundled schema (a mistyped
    apiVersion, say) is an error here, where the kubernetes-validate CLI only warns and exits 0."""
    kv = kubernetes_validate()
    try:
        kv.validate(doc, K8S_VERSION, strict=True)
    except kv.ValidationError as e:
        return f"{'.'.join(str(p) for p in e.path) or '<root>'}: {e.message}"
    except kv.SchemaNotFoundError as e:
        return e.message
    return None


def test_k8s_resources_validate_against_their_schemas():
    """Every document of every file that kustomization.yaml lists (kustomization.yaml itself is a
    kustomize file, not a cluster resource) against the schemas bundled in kubernetes-validate."""
    (kust,) = k8s_docs()["kustomization.yaml"]
    docs = k8s_docs()
    errors, validated = [], 0
    for name in kust["resources"]:
        for d in docs[name]:
            err = schema_error(d)
            validated += 1
            if err:
                errors.append(f"{name}: {d['kind']}/{d['metadata']['name']}: {err}")
    assert not errors, "\n".join(errors)
    assert validated == len(resources()) >= 7


WORKERS_BROKEN = {
    # a wrong field type
    "replicas: 4 ": ("replicas: \"four\" ", "spec.replicas: 'four' is not of type"),
    # a misspelt field, caught only by strict validation
    "terminationGracePeriodSeconds: 30":
        ("terminationGracePeriodSecond: 30", "'terminationGracePeriodSecond' was unexpected"),
    # an apiVersion with no schema
    "apiVersion: apps/v1":
        ("apiVersion: apps/v2", "Couldn't find schema for kind Deployment with api version apps/v2"),
    # a required field missing
    "  selector:\n    matchLabels:\n      app.kubernetes.io/name: tally-worker\n      app.kubernetes.io/part-of: tally\n":
        ("", "'selector' is a required property"),
}


@pytest.mark.parametrize("original", WORKERS_BROKEN, ids=["type", "unknown-field", "api-version", "required"])
def test_k8s_schema_validation_catches_a_broken_copy(tmp_path, original):
    """The validator is not a no-op: a copy of workers.yaml in tmp_path with one mistake fails, with
    the mistake named. deploy/ itself is never edited."""
    replacement, expected = WORKERS_BROKEN[original]
    text = (K8S / "workers.yaml").read_text(encoding="utf-8")
    assert text.count(original) == 1, f"workers.yaml no longer contains {original!r}: update this test"
    broken = tmp_path / "workers.yaml"
    broken.write_text(text.replace(original, replacement), encoding="utf-8")
    (doc,) = [d for d in yaml.safe_load_all(broken.read_text(encoding="utf-8")) if d]
    err = schema_error(doc)
    assert err is not None and expected in err, err


# ------------------------------------------------------------------------------------------- k8s-ha

def yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def identity(d):
    return d["kind"], d["metadata"]["name"]


def json_patch(doc, ops):
    """RFC 6902 operations (add, replace, remove) on `doc`, in place."""
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            last = len(node) if last == "-" else int(last)
        if op["op"] == "remove":
            del node[last]
        elif op["op"] in ("add", "replace"):
            assert op["op"] == "add" or (last in node if isinstance(node, dict) else last < len(node)), op
            if isinstance(node, list) and op["op"] == "add":
                node.insert(last, op["value"])
            else:
                node[last] = op["value"]
        else:
            raise AssertionError(f"json patch op {op['op']!r} not supported by this renderer")


def merge_patch(doc, patch):
    """A strategic-merge patch without lists (maps merged key by key, null deletes), in place."""
    for key, value in patch.items():
        assert not isinstance(value, list), f"lists in strategic-merge patches are not supported here ({key})"
        if value is None:
            doc.pop(key, None)
        elif isinstance(value, dict) and isinstance(doc.get(key), dict):
            merge_patch(doc[key], value)
        else:
            doc[key] = value


def kustomize(folder):
    """The resources `kubectl kustomize FOLDER` renders, for the features deploy/'s kustomizations use:
    resources (files and kustomization folders), namespace, patches (strategic merge, `$patch: delete`,
    RFC 6902 with a target). Anything else fails, so the overlay cannot outgrow this check unseen.
    kubectl is not needed (nor installed by scripts/install-deps)."""
    (kust,) = yaml_docs(folder / "kustomization.yaml")
    assert kust["kind"] == "Kustomization"
    unsupported = set(kust) - {"apiVersion", "kind", "metadata", "namespace", "resources", "patches"}
    assert not unsupported, f"{folder}: kustomization fields this renderer does not handle: {unsupported}"
    docs = []
    for entry in kust["resources"]:
        path = (folder / entry).resolve()
        docs += kustomize(path) if path.is_dir() else yaml_docs(path)
    for d in docs:
        if d["kind"] != "Namespace" and "namespace" in kust:
            d["metadata"]["namespace"] = kust["namespace"]
    for entry in kust.get("patches", []):
        assert ("path" in entry) != ("patch" in entry), entry
        text = (folder / entry["path"]).read_text(encoding="utf-8") if "path" in entry else entry["patch"]
        if "target" in entry:
            t = entry["target"]
            hits = [d for d in docs if d["kind"] == t["kind"] and d["metadata"]["name"] == t["name"]
                    and d["apiVersion"] == "/".join(x for x in (t.get("group"), t.get("version")) if x)]
            assert len(hits) == 1, f"patch target {t} matches {len(hits)} resources"
            json_patch(hits[0], yaml.safe_load(text))
            continue
        (patch,) = [d for d in yaml.safe_load_all(text) if d is not None]
        hits = [i for i, d in enumerate(docs) if identity(d) == identity(patch) and d["apiVersion"] == patch["apiVersion"]]
        assert len(hits) == 1, f"patch {identity(patch)} matches {len(hits)} resources"
        if patch.get("$patch") == "delete":
            del docs[hits[0]]
        else:
            merge_patch(docs[hits[0]], patch)
    return docs


def ha():
    return kustomize(K8S_HA)


def ha_find(docs, kind, name):
    hits = [d for d in docs if identity(d) == (kind, name)]
    assert len(hits) == 1, f"expected exactly one {kind}/{name} in deploy/k8s-ha, found {len(hits)}"
    return hits[0]


def test_k8s_ha_files_parse_and_are_all_used():
    """Every YAML file of deploy/k8s-ha is a resource or a patch of its kustomization, which builds on
    deploy/k8s; optional/ is left out of it."""
    (kust,) = yaml_docs(K8S_HA / "kustomization.yaml")
    present = {p.name for p in K8S_HA.glob("*.yaml")} - {"kustomization.yaml"}
    used = [r for r in kust["resources"] if (K8S_HA / r).is_file()] + [p["path"] for p in kust["patches"] if "path" in p]
    assert sorted(used) == sorted(present)
    assert [r for r in kust["resources"] if (K8S_HA / r).is_dir()] == ["../k8s"]
    assert not any("optional" in str(x) for x in kust["resources"] + kust["patches"])
    assert check_identity({p.name: yaml_docs(p) for p in K8S_HA.rglob("*.yaml") if p.name != "kustomization.yaml"}) >= 7


def test_k8s_ha_resources_validate_against_their_schemas():
    """Every resource the overlay renders (the base's as patched, and its own) validates strictly;
    optional/ holds custom resources without a bundled schema and is checked below instead."""
    docs = ha()
    errors = [f"{d['kind']}/{d['metadata']['name']}: {err}" for d in docs if (err := schema_error(d))]
    assert not errors, "\n".join(errors)
    kinds = {identity(d) for d in docs}
    assert {("Deployment", "tally-coordinator"), ("PodDisruptionBudget", "tally-coordinator"),
            ("HorizontalPodAutoscaler", "tally-worker"), ("Secret", "tally-blobs"),
            ("Secret", "tally-postgres"), ("Service", "tally-coordinator"), ("Deployment", "tally-worker")} <= kinds
    assert ("StatefulSet", "tally-coordinator") not in kinds and ("Service", "tally-coordinator-headless") not in kinds
    assert "PersistentVolumeClaim" not in {kind for kind, _ in kinds}       # the shared claim is optional/
    assert len(docs) == len(kinds) >= 11
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"]["namespace"] == "tally", identity(d)


def test_k8s_ha_coordinator_deployment():
    docs = ha()
    dep = ha_find(docs, "Deployment", "tally-coordinator")
    spec = dep["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["type"] == "RollingUpdate" and spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 1
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert ha_find(docs, "Service", "tally-coordinator")["spec"]["selector"].items() <= labels.items()
    c = container(dep, "coordinator")
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["readinessProbe"].get("timeoutSeconds", 1) > 2          # /readyz answers within 2 s
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in c["env"]}
    assert env["TALLY_REPLICA_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # The data directory is each replica's own emptyDir (its files are in the bucket, see below),
    # bounded so that local copies cannot fill the node.
    args = c["args"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    data = vols[mounts[args[args.index("--data-dir") + 1]]]
    assert set(data) == {"name", "emptyDir"} and data["emptyDir"]["sizeLimit"] == "20Gi"
    assert "volumeClaimTemplates" not in spec
    pdb = ha_find(docs, "PodDisruptionBudget", "tally-coordinator")
    assert pdb["spec"]["minAvailable"] == 2 < spec["replicas"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_k8s_ha_configmap_has_a_postgres_store():
    """tally.yaml has store.kind postgres and blobs (the rest as in deploy/k8s), its password file
    comes from a Secret mounted in the coordinator, and the token imports go to the same store."""
    docs = ha()
    cfg = yaml.safe_load(ha_find(docs, "ConfigMap", "tally-config")["data"]["tally.yaml"])
    store = cfg.pop("store")
    assert cfg.pop("blobs")["kind"] == "s3"                     # checked in the next test
    assert store["kind"] == "postgres"
    url = urllib.parse.urlsplit(store["url"])
    assert url.scheme in ("postgres", "postgresql") and url.hostname and url.password is None
    query = dict(urllib.parse.parse_qsl(url.query))
    assert set(query) <= {"schema", "sslmode"} and query.get("sslmode", "prefer") in {"disable", "prefer", "require"}
    (base_cm,) = [d for d in yaml_docs(K8S / "configmap.yaml") if d["kind"] == "ConfigMap"]
    assert cfg == yaml.safe_load(base_cm["data"]["tally.yaml"])
    dep = ha_find(docs, "Deployment", "tally-coordinator")
    pod = dep["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in pod["volumes"]}
    folder, _, file = store["password_file"].rpartition("/")

    def secret_key(c):
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        source = vols[mounts[folder]]["secret"]
        items = {i["path"]: i["key"] for i in source.get("items", [])} or {file: file}
        return source["secretName"], items[file]

    c = container(dep, "coordinator")
    name, key = secret_key(c)
    assert key in ha_find(docs, "Secret", name)["stringData"]
    imported = {}
    for init in pod["initContainers"]:
        args = init["args"]
        assert args[:2] == ["token", "create"] and "--data-dir" in args, args
        assert args[args.index("--store") + 1] == store["url"]
        assert args[args.index("--store-password-file") + 1] == store["password_file"]
        assert secret_key(init) == (name, key)
        imported[args[args.index("--role") + 1]] = args[args.index("--secret-file") + 1].rsplit("/", 1)[1]
    assert imported == {"worker": "worker", "monitor": "monitor"}


def test_k8s_ha_blobs_in_a_bucket():
    """tally.yaml's blobs name an S3 folder (the checks the coordinator makes at start-up), and the
    coordinator's only AWS key is Secret tally-blobs's, so no other Secret's AWS_* mix with it."""
    docs = ha()
    cfg = yaml.safe_load(ha_find(docs, "ConfigMap", "tally-config")["data"]["tally.yaml"])
    blobs = cfg["blobs"]
    assert blobs["kind"] == "s3" and set(blobs) <= {"kind", "url", "region", "endpoint"}
    url = urllib.parse.urlsplit(blobs["url"])
    assert url.scheme == "s3" and url.hostname and url.path.endswith("/") and len(url.path) > 1
    assert not blobs.get("endpoint") or urllib.parse.urlsplit(blobs["endpoint"]).scheme in ("http", "https")
    assert blobs["url"].rstrip("/") not in {s["url"].rstrip("/") for s in cfg["sources"]}
    c = container(ha_find(docs, "Deployment", "tally-coordinator"), "coordinator")
    assert c["envFrom"] == [{"secretRef": {"name": "tally-blobs"}}]         # required, not optional
    assert not any(e["name"].startswith("AWS_") for e in c["env"])
    secret = ha_find(docs, "Secret", "tally-blobs")
    assert secret["type"] == "Opaque"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= secret["stringData"].keys() <= {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL"}


def test_k8s_ha_hpa_scales_the_workers():
    docs = ha()
    hpa = ha_find(docs, "HorizontalPodAutoscaler", "tally-worker")
    ref = hpa["spec"]["scaleTargetRef"]
    workers = ha_find(docs, ref["kind"], ref["name"])
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == (workers["apiVersion"], "Deployment", "tally-worker")
    assert "replicas" not in workers["spec"]                    # the autoscaler owns the count
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] in ("External", "Pods") and "tally_tasks" in metric[metric["type"].lower()]["metric"]["name"]


def test_k8s_ha_optional_manifests():
    """optional/, left out of the overlay: a KEDA ScaledObject and a CloudNativePG Cluster, outside
    schema validation because kubernetes-validate bundles no schema for them (if it ever does,
    validate them); and the ReadWriteMany claim for clusters without an object store, validated."""
    docs = {p.name: yaml_docs(p) for p in (K8S_HA / "optional").glob("*.yaml")}
    assert set(docs) == {"keda.yaml", "cloudnativepg.yaml", "shared-data.yaml"}
    for name, ds in docs.items():
        for d in ds:
            err = schema_error(d)
            assert (err is None) if name == "shared-data.yaml" else ("Couldn't find schema" in (err or "")), (name, err)
            assert d["metadata"]["namespace"] == "tally"
    (pvc,) = docs["shared-data.yaml"]
    assert pvc["kind"] == "PersistentVolumeClaim" and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # Its comment says how to mount it instead of the emptyDir, with the name it has.
    text = (K8S_HA / "optional" / "shared-data.yaml").read_text(encoding="utf-8")
    assert f"claimName: {pvc['metadata']['name']}" in text and "blobs" in text
    assert ("PersistentVolumeClaim", pvc["metadata"]["name"]) not in {identity(d) for d in ha()}
    (keda,) = docs["keda.yaml"]
    assert keda["kind"] == "ScaledObject" and keda["spec"]["scaleTargetRef"]["name"] == "tally-worker"
    (trigger,) = keda["spec"]["triggers"]
    assert trigger["type"] == "prometheus" and 'tally_tasks{state="pending"}' in trigger["metadata"]["query"]
    (cluster,) = docs["cloudnativepg.yaml"]
    assert cluster["kind"] == "Cluster" and cluster["apiVersion"].startswith("postgresql.cnpg.io/")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    secret = ha_find(ha(), "Secret", initdb["secret"]["name"])
    assert secret["type"] == "kubernetes.io/basic-auth" and secret["stringData"]["username"] == initdb["owner"]


# ------------------------------------------------------------------------------------------ systemd

def unit(name):
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str                                      # systemd keys are case-sensitive
    with open(SYSTEMD / name, encoding="utf-8") as f:
        cp.read_file(f)
    return cp


def exec_start(cp):
    return shlex.split(cp["Service"]["ExecStart"])


def test_systemd_coordinator_unit():
    cp = unit("tally-coordinator.service")
    s = cp["Service"]
    argv = exec_start(cp)
    assert argv[0] == "/usr/local/bin/tally" and argv[1] == "coordinator"
    assert argv[argv.index("--config") + 1] == "/etc/tally/tally.yaml"
    assert argv[argv.index("--data-dir") + 1] == "/var/lib/tally"
    expected = dict(Type="exec", User="tally", StateDirectory="tally", Restart="on-failure", KillSignal="SIGTERM",
                    TimeoutStopSec="30", NoNewPrivileges="yes", ProtectSystem="strict",
                    ReadWritePaths="/var/lib/tally", PrivateTmp="yes")
    assert {k: s.get(k) for k in expected} == expected
    assert cp["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_worker_template_unit():
    cp = unit("tally-worker@.service")
    s = cp["Service"]
    argv = exec_start(cp)
    assert argv[0] == "/usr/local/bin/tally" and argv[1] == "worker"
    assert argv[argv.index("--name") + 1] == "%H-%i"
    expected = dict(EnvironmentFile="-/etc/tally/worker.env", Restart="always", DynamicUser="yes",
                    KillSignal="SIGTERM", NoNewPrivileges="yes")
    assert {k: s.get(k) for k in expected} == expected
    assert "tally-worker@{1..4}" in (SYSTEMD / "README.md").read_text(encoding="utf-8")


def systemd_verify(unit_dir, *units):
    """`systemd-analyze verify` of units in `unit_dir` -> (exit code, everything it printed).
    It exits 0 on unknown keys and unparsable values ("..., ignoring."), reporting them as warnings,
    so callers must require silence as well as exit 0. SYSTEMD_LOG_LEVEL is pinned to warning: an
    inherited `err` would hide exactly those lines."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze not on PATH (Debian's systemd package): install with scripts/install-deps",
                    pytrace=False)
    env = {**os.environ, "SYSTEMD_LOG_LEVEL": "warning", "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_LOG_TARGET": "console"}
    p = run([tool, "verify", "--man=no", *[unit_dir / u for u in units]], env=env)
    return p.returncode, (p.stdout + p.stderr).strip()


def units_with_true(tmp_path, replace=()):
    """Copies of deploy/systemd/*.service in tmp_path with ExecStart's /usr/local/bin/tally swapped for
    /bin/true (verify fails on a missing executable and tally is not installed here), plus any
    (old, new) text replacements."""
    for path in SYSTEMD.glob("*.service"):
        text = path.read_text(encoding="utf-8").replace("/usr/local/bin/tally", "/bin/true")
        for old, new in replace:
            text = text.replace(old, new)
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    return tmp_path


def test_systemd_analyze_verify(tmp_path):
    """`systemd-analyze verify` of both units (the worker template through an instance): exit 0 and
    not one warning."""
    for name in ("tally-coordinator.service", "tally-worker@.service"):
        assert exec_start(unit(name))
    code, out = systemd_verify(units_with_true(tmp_path), "tally-coordinator.service", "tally-worker@1.service")
    assert code == 0 and not out, f"systemd-analyze verify exit {code}:\n{out}"


@pytest.mark.parametrize("old,new,unit_name,expected", [
    ("KillSignal=SIGTERM", "KilSignal=SIGTERM", "tally-coordinator.service", "Unknown key 'KilSignal'"),
    ("Restart=always", "Restart=sometimes", "tally-worker@1.service", "restart specifier"),
    ("/bin/true", "/nonexistent/tally", "tally-coordinator.service", "/nonexistent/tally"),
], ids=["unknown-key", "bad-value", "missing-binary"])
def test_systemd_analyze_verify_catches_a_broken_copy(tmp_path, old, new, unit_name, expected):
    """The check is not a no-op: a copy with one mistake is flagged (the first two with exit 0, which is
    why the check above also requires silence)."""
    code, out = systemd_verify(units_with_true(tmp_path, [(old, new)]), unit_name)
    if new.startswith("/nonexistent"):
        assert code != 0, out
    assert expected in out, f"systemd-analyze verify exit {code}, did not flag {new!r}:\n{out}"


# ---------------------------------------------------------------------------------------- container

def instructions():
    """[(INSTRUCTION, arguments)] with line continuations joined and comments dropped."""
    out, pending = [], ""
    for line in CONTAINERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "Containerfile ends inside a continued line"
    return out


def stages():
    """[(FROM arguments, [(INSTRUCTION, arguments)])] per build stage."""
    out = []
    for word, rest in instructions():
        if word == "FROM":
            out.append((rest, []))
        elif out:
            out[-1][1].append((word, rest))
        else:
            assert word == "ARG", f"{word} before the first FROM"
    return out


def test_containerfile_build_and_runtime_stages():
    st = stages()
    assert len(st) >= 2
    (build_from, build), (run_from, runtime) = st[0], st[-1]
    image, _, alias = build_from.partition(" AS ")
    assert image.startswith("swift:") and alias.strip() == "build"
    assert run_from.split()[0] == "debian:bookworm-slim"

    build_runs = " ".join(rest for word, rest in build if word == "RUN")
    for pkg in ("zlib1g-dev", "libisal-dev", "libcurl4-openssl-dev"):
        assert pkg in build_runs.split()
    assert "swift build -c release --static-swift-stdlib --product tally" in build_runs
    for word, rest in build:                                  # what the build copies exists in the repo
        if word == "COPY":
            for src in shlex.split(rest)[:-1]:
                assert list(REPO.glob(src)), f"COPY source {src} not in the repository"

    run_runs = " ".join(rest for word, rest in runtime if word == "RUN")
    for pkg in ("libisal2", "zlib1g", "ca-certificates"):
        assert pkg in run_runs.split()
    copies = [shlex.split(rest) for word, rest in runtime if word == "COPY"]
    assert any(c[0] == "--from=build" and c[-1] == "/usr/local/bin/tally" for c in copies)
    user = [rest for word, rest in runtime if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert ("ENTRYPOINT", '["tally"]') in runtime
    assert any(word == "EXPOSE" and "8080" in rest.split() for word, rest in runtime)
