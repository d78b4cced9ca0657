"""Static checks of deploy/: Kubernetes manifests, systemd units, container recipe.

Needs only PyYAML. Optional tools are used when present (kubectl, systemd-analyze); when one is absent,
or kubectl has no cluster to talk to, the fallback is named in the test and reported as a warning,
never skipped silently."""

import configparser
import shlex
import shutil
import subprocess
import urllib.parse
import warnings
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"

SOURCE_KINDS = {"http", "s3", "file"}
FORMATS = {"auto", "twingate-csv", "twingate-s3", "twingate-analytics"}


def run(cmd, timeout=120):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)


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
    ann = sts["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/path"] == "/metrics"
    assert int(ann["prometheus.io/port"]) in ports.values()


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


def cluster_reachable(kubectl):
    p = run([kubectl, "api-versions", "--request-timeout=5s"], timeout=60)
    return p.returncode == 0


def test_kubectl_kustomize_renders_or_yaml_parse_fallback():
    """Offline: `kubectl kustomize` renders exactly the objects the YAML parse found."""
    expected = {(d["kind"], d["metadata"]["name"]) for d in resources()}
    assert check_identity(k8s_docs()) and expected           # the YAML-parse path ran
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        warnings.warn("kubectl not on PATH: deploy/k8s checked by YAML parsing only")
        return
    p = run([kubectl, "kustomize", K8S])
    assert p.returncode == 0, p.stderr
    rendered = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(p.stdout) if d}
    assert rendered == expected


def test_kubectl_apply_dry_run_or_yaml_parse_fallback():
    """`kubectl apply --dry-run=client` needs API discovery, i.e. a reachable cluster. `-k`, not `-f`:
    with `-f deploy/k8s` kubectl would also send kustomization.yaml, which is no cluster resource."""
    assert check_identity(k8s_docs())                         # the YAML-parse path ran
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        warnings.warn("kubectl not on PATH: apply --dry-run not run, deploy/k8s checked by YAML parsing only")
        return
    if not cluster_reachable(kubectl):
        warnings.warn("kubectl has no reachable cluster: apply --dry-run not run, "
                      "deploy/k8s checked by YAML parsing and `kubectl kustomize`")
        return
    p = run([kubectl, "apply", "--dry-run=client", "--validate=false", "-k", K8S])
    assert p.returncode == 0, p.stderr


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


def test_systemd_analyze_verify_or_ini_fallback(tmp_path):
    """`systemd-analyze verify` flags unknown keys and bad values; the binary path is swapped for
    /bin/true since tally is not installed here."""
    for name in ("tally-coordinator.service", "tally-worker@.service"):
        assert exec_start(unit(name))                         # the INI-parse path ran
    tool = shutil.which("systemd-analyze")
    if tool is None:
        warnings.warn("systemd-analyze not on PATH: units checked by INI parsing only")
        return
    for path in SYSTEMD.glob("*.service"):
        text = path.read_text(encoding="utf-8").replace("/usr/local/bin/tally", "/bin/true")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    p = run([tool, "verify", "--man=no", tmp_path / "tally-coordinator.service", tmp_path / "tally-worker@1.service"])
    ours = [line for line in (p.stdout + p.stderr).splitlines() if str(tmp_path) in line or "tally-" in line]
    assert not ours, "\n".join(ours)
    if p.returncode != 0:
        warnings.warn(f"systemd-analyze verify could not run here (exit {p.returncode}): {p.stderr.strip()[:300]}")


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
