"""The container and Kubernetes files agree with the service and with Kubernetes.

Every manifest in deploy/kubernetes/ is checked against the Kubernetes schemas that the
kubernetes-validate package ships (strict: unknown fields are errors; no network), and the
facts that could drift are checked against their source: probe paths against openapi.yaml,
ConfigMap keys and values against service/settings.py, ports, the grace period against the
gunicorn timeout, the user and the catalog path against the Dockerfile; and the shape of the
edge: the image runs `wordspace serve --proxy` (nginx in front of gunicorn) under tini, and
the Deployment's probes reach the service through nginx's port.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from service.settings import Settings, env_table
from tests.support import ROOT

K8S = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
KUSTOMIZATION = "kustomization.yaml"
SETTINGS_MAP, SPEC_MAP = "wordspace-settings", "wordspace-catalog-spec"
# The oldest Kubernetes the manifests are meant for, and the newest the package knows.
VERSIONS = ("1.29.0", latest_version())


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != KUSTOMIZATION)


def load_all() -> list[dict]:
    return [doc for path in manifest_files()
            for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def resources() -> dict[str, dict]:
    """kind -> the one resource of that kind."""
    docs = load_all()
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    others = [d for d in docs if d["kind"] != "ConfigMap"]
    by_kind = {doc["kind"]: doc for doc in others}
    assert len(by_kind) == len(others), "one resource per kind is expected (and two ConfigMaps)"
    assert sorted(maps) == sorted([SETTINGS_MAP, SPEC_MAP])
    return {**by_kind, "ConfigMap": maps[SETTINGS_MAP], "spec ConfigMap": maps[SPEC_MAP]}


@pytest.fixture(scope="module")
def container(resources) -> dict:
    return resources["Deployment"]["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture(scope="module")
def config(resources) -> dict[str, str]:
    return resources["ConfigMap"]["data"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def instructions(dockerfile, name: str) -> list[str]:
    return [args for instr, args in dockerfile if instr == name]


def dockerfile_env(dockerfile) -> dict[str, str]:
    env = {}
    for args in instructions(dockerfile, "ENV"):
        env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


# --- Kubernetes schemas ---

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_is_valid_kubernetes(path, version):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / KUSTOMIZATION).read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]


# --- probes, settings, ports ---

def test_probes_use_the_health_routes_of_the_contract(container, spec):
    paths = {name: container[name]["httpGet"]["path"]
             for name in ("livenessProbe", "readinessProbe", "startupProbe")}
    assert paths["livenessProbe"] == "/healthz"
    assert paths["readinessProbe"] == "/readyz"
    for name, path in paths.items():
        assert path in spec["paths"], f"{name} probes {path}, which openapi.yaml does not have"
        assert "get" in spec["paths"][path]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in (container["ports"][0]["name"],
                                                      container["ports"][0]["containerPort"])


def test_configmap_holds_only_real_settings_with_valid_values(config, container):
    known = {name for name, _ in env_table()}
    assert set(config) <= known, f"not settings: {sorted(set(config) - known)}"
    Settings.from_env(config)  # raises on a value that does not parse
    assert "WORDSPACE_API_KEYS" not in config, "API keys belong in a Secret"
    assert {e["name"] for e in container.get("env", [])} <= known


def test_ports_agree(resources, container, config, dockerfile):
    port = container["ports"][0]["containerPort"]
    assert int(config.get("WORDSPACE_PORT", Settings.port)) == port
    assert config.get("WORDSPACE_HOST") == "0.0.0.0"
    service_port = resources["Service"]["spec"]["ports"][0]
    assert service_port["targetPort"] in (container["ports"][0]["name"], port)
    assert instructions(dockerfile, "EXPOSE") == [str(port)]
    assert dockerfile_env(dockerfile)["WORDSPACE_PORT"] == str(port)


def test_grace_period_outlasts_the_longest_request(resources, container, config):
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    timeout = Settings.from_env(config).timeout
    pause = 0
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    if pre_stop[:1] == ["sleep"]:
        pause = int(pre_stop[1])
    assert pod["terminationGracePeriodSeconds"] > pause + timeout


def test_labels_and_names_connect(resources):
    deployment = resources["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (deployment["spec"]["selector"]["matchLabels"],
                     resources["Service"]["spec"]["selector"],
                     resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
    assert resources["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == \
        deployment["metadata"]["name"]
    assert "cpu" in deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    names = {resources["ConfigMap"]["metadata"]["name"]}
    for pod in (deployment["spec"]["template"]["spec"], resources["Job"]["spec"]["template"]["spec"]):
        for c in pod["containers"]:
            assert {ref["configMapRef"]["name"] for ref in c["envFrom"] if "configMapRef" in ref} == names


def test_the_build_job_reads_the_catalog_spec_from_its_configmap(resources, tmp_path):
    from service.builder.spec import load_spec

    pod = resources["Job"]["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == resources["spec ConfigMap"]["metadata"]["name"]
    [build] = pod["containers"]
    [mount] = [m for m in build["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    command = build["command"]
    assert command[:2] == ["wordspace", "build"] and "--spaces" not in command
    spec_file = Path(command[command.index("--spec") + 1])
    assert spec_file.parent == Path(mount["mountPath"])
    [(key, text)] = resources["spec ConfigMap"]["data"].items()
    assert key == spec_file.name
    (tmp_path / key).write_text(text)
    spec = load_spec(tmp_path / key)  # a spec the build accepts
    # The serving image has no TensorFlow: the shipped spec trains nothing.
    assert spec.spaces and not any(s.made_here for s in spec.spaces.values())


# --- the edge: nginx in front, tini as PID 1 ---

def test_image_installs_nginx_and_tini_and_runs_under_tini(dockerfile):
    runtime = dockerfile[max(i for i, (instr, _) in enumerate(dockerfile) if instr == "FROM"):]
    installs = [args for instr, args in runtime if instr == "RUN" and "apt-get install" in args]
    assert len(installs) == 1
    words = installs[0].split()
    assert {"nginx", "tini", "--no-install-recommends"} <= set(words)
    assert "rm -rf /var/lib/apt/lists/*" in installs[0]
    entrypoint = json.loads(instructions(dockerfile, "ENTRYPOINT")[-1])
    assert entrypoint == ["/usr/bin/tini", "--", "/usr/local/bin/wordspace-entrypoint"]
    # nginx is in /usr/sbin; the venv's commands come first.
    path = dockerfile_env(dockerfile)["PATH"].split(":")
    assert path[0] == "/opt/venv/bin" and "/usr/sbin" in path


def test_deployment_serves_through_nginx(resources, container, config):
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    # The image's entry point (tini, then `wordspace serve --proxy`) is kept.
    assert "command" not in container and container["args"] == ["serve"]
    assert len(pod["containers"]) == 1, "one image: nginx and gunicorn in the same container"
    # nginx listens on WORDSPACE_PORT; every probe and the metrics scrape go to that port.
    port = int(config["WORDSPACE_PORT"])
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        target = container[probe]["httpGet"]["port"]
        assert by_name.get(target, target) == port
    annotations = resources["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == port


def test_nginx_buffers_bodies_on_disk_not_in_the_memory_limit(resources, config):
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"].get("medium") != "Memory", \
        "nginx writes request bodies under /tmp: a memory-backed /tmp counts against the memory limit"
    size = tmp["emptyDir"]["sizeLimit"]
    assert size.endswith("Gi") and int(size[:-2]) * 2**30 >= \
        1000 * Settings.from_env(config).max_body_bytes, "room for 1,000 bodies being received"


# --- the catalog: object storage by default, a shared volume as the alternative ---

SHARED = ROOT / "deploy" / "kubernetes-shared-volume"
# Measured by bench/store.py (the command is in the file), quoted in docs/operations.md.
MEASURED = json.loads((ROOT / "docs" / "store-figures.json").read_text())


def render(folder: Path) -> dict[str, dict]:
    """`kubectl kustomize FOLDER`, as (kind or ConfigMap name) -> resource."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl renders the manifests (kubectl kustomize); install it"
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    return {d["metadata"]["name"] if d["kind"] == "ConfigMap" else d["kind"]: d for d in docs}


def pod_of(resource: dict) -> dict:
    return resource["spec"]["template"]["spec"]


def quantity(text: str) -> int:
    """Bytes of a Kubernetes quantity such as 640Mi or 2Gi."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return int(text[:-2]) * units[text[-2:]] if text[-2:] in units else int(text)


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict]:
    return render(K8S)


def test_replicas_serve_the_bucket_the_job_publishes(rendered):
    config = rendered[SETTINGS_MAP]["data"]
    settings = Settings.from_env(config)
    assert settings.remote, "the default manifests serve from object storage"
    assert "PersistentVolumeClaim" not in rendered, "no shared volume by default"
    assert not [k for k in config if k.startswith("AWS_")], "credentials belong in a Secret"
    for kind in ("Deployment", "Job"):
        pod = pod_of(rendered[kind])
        [c] = pod["containers"]
        secrets = [ref["secretRef"] for ref in c["envFrom"] if "secretRef" in ref]
        assert [s["name"] for s in secrets] == ["wordspace-object-store"]
        assert not any("persistentVolumeClaim" in v for v in pod["volumes"])
        [cache] = [v for v in pod["volumes"] if v["name"] == "cache"]
        assert cache["emptyDir"].get("medium") != "Memory", "the cache would count as memory"
        [mount] = [m for m in c["volumeMounts"] if m["name"] == "cache"]
        assert Path(mount["mountPath"]) == settings.cache and not mount.get("readOnly")
        # Bounded: the pod asks for the disk it uses, and is evicted before it takes more.
        requested = quantity(c["resources"]["requests"]["ephemeral-storage"])
        assert quantity(cache["emptyDir"]["sizeLimit"]) >= requested
    assert rendered["Job"]["spec"]["template"]["spec"]["containers"][0]["command"][:2] == \
        ["wordspace", "build"]  # with WORDSPACE_CATALOG=s3://...: builds, then publishes


def test_probes_and_requests_fit_the_measured_figures(rendered):
    """The startup probe's budget against the measured cold start from the store, the memory
    request against the measured PSS, the disk request against two versions of the space."""
    runs = [MEASURED["glove"], MEASURED["glove_again"]]  # the shipped spec's one space
    glove = MEASURED["glove"]
    [c] = pod_of(rendered["Deployment"])["containers"]
    probe = c["startupProbe"]
    budget = probe["periodSeconds"] * probe["failureThreshold"]
    assert budget >= 10 * max(r["cold_start_seconds"] for r in runs), "room for a slower store"
    assert budget >= 2 * MEASURED["default"]["cold_start_seconds"], "the six default spaces too"
    requests = c["resources"]["requests"]
    assert quantity(requests["memory"]) >= 1.1 * max(r["pss_mib_after_load"] for r in runs) * 2**20
    assert quantity(c["resources"]["limits"]["memory"]) > quantity(requests["memory"])
    # The cache keeps the serving version and the one before; /tmp shares the request.
    assert quantity(requests["ephemeral-storage"]) >= 2 * glove["space_bytes"] + 2**30
    assert max(glove["cache_bytes_after"]) <= 2 * glove["space_bytes"] + 2**20


def test_the_shared_volume_alternative_renders_with_a_read_only_many_claim(dockerfile):
    shared = render(SHARED)
    claim = shared["PersistentVolumeClaim"]
    assert "ReadOnlyMany" in claim["spec"]["accessModes"]
    catalog = shared[SETTINGS_MAP]["data"]["WORDSPACE_CATALOG"]
    assert dockerfile_env(dockerfile)["WORDSPACE_CATALOG"] == catalog
    assert catalog in instructions(dockerfile, "VOLUME")
    for kind, read_only in (("Deployment", True), ("Job", False)):
        pod = pod_of(shared[kind])
        [volume] = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        assert volume["persistentVolumeClaim"].get("readOnly", False) is read_only
        assert not [v for v in pod["volumes"] if v["name"] == "cache"]
        [c] = pod["containers"]
        [mount] = [m for m in c["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["mountPath"] == catalog and mount.get("readOnly", False) is read_only
    for doc in shared.values():
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def test_pods_run_as_the_image_user_on_a_read_only_root(resources, dockerfile):
    uid = instructions(dockerfile, "USER")[-1].split(":")[0]
    for kind in ("Deployment", "Job"):
        pod = resources[kind]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert str(pod["securityContext"]["runAsUser"]) == uid
        for c in pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            # Only /tmp and the catalog's cache are writable.
            writable = {m["mountPath"] for m in c["volumeMounts"] if not m.get("readOnly")}
            assert writable <= {"/tmp", "/cache"}


# --- the Dockerfile ---

def test_dockerfile_shape(dockerfile):
    froms = instructions(dockerfile, "FROM")
    assert len(froms) >= 2, "multi-stage: a builder stage and a runtime stage"
    first_from = next(i for i, (instr, _) in enumerate(dockerfile) if instr == "FROM")
    base_args = [args for instr, args in dockerfile[:first_from] if instr == "ARG"]
    assert any(a.startswith("BASE=") for a in base_args), "ARG BASE=... before the first FROM"
    assert all("${BASE}" in f for f in froms)

    user = instructions(dockerfile, "USER")[-1].split(":")[0]
    assert user not in ("", "0", "root")
    assert dockerfile.index(("USER", instructions(dockerfile, "USER")[-1])) > \
        max(i for i, (instr, _) in enumerate(dockerfile) if instr == "FROM")

    healthcheck = " ".join(instructions(dockerfile, "HEALTHCHECK"))
    assert "/healthz" in healthcheck and "/opt/venv/bin/python" in healthcheck
    assert instructions(dockerfile, "VOLUME")
    assert dockerfile_env(dockerfile)["WORDSPACE_HOST"] == "0.0.0.0"
    # The runtime stage gets the venv, never the build tools or the source tree.
    runtime = dockerfile[max(i for i, (instr, _) in enumerate(dockerfile) if instr == "FROM"):]
    copies = [args for instr, args in runtime if instr == "COPY"]
    assert any(c.startswith("--from=builder /opt/venv") for c in copies)
    assert not any(" service" in c or c.startswith(". ") for c in copies)


def test_dockerignore_lets_in_what_the_dockerfile_copies(dockerfile):
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for args in instructions(dockerfile, "COPY"):
        if args.startswith("--from"):
            continue
        for source in args.split()[:-1]:
            assert source.rstrip("/") in allowed, f"COPY {source}: excluded by .dockerignore"
            assert (ROOT / source).exists()


# --- the entry point ---

@pytest.fixture
def fake_wordspace(tmp_path):
    """Run the entry point with a `wordspace` on PATH that prints its arguments, and a
    `python` that has no TensorFlow (the serving image)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("wordspace", 'echo "wordspace $*"'), ("python", "exit 1")):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)

    def run(*args, catalog=tmp_path):
        env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "WORDSPACE_CATALOG": str(catalog)}
        return subprocess.run(["sh", str(ENTRYPOINT), *args], env=env, capture_output=True,
                              text=True, timeout=10)
    return run


def test_entrypoint_serves_behind_nginx_by_default(fake_wordspace):
    for args in ((), ("serve",)):
        done = fake_wordspace(*args)
        assert done.returncode == 0 and done.stdout == "wordspace serve --proxy\n"


def test_entrypoint_passes_other_commands_to_wordspace(fake_wordspace):
    done = fake_wordspace("build-index", "glove", "--from", "kumo")
    assert done.stdout == "wordspace build-index glove --from kumo\n"


def test_entrypoint_builds_then_serves(fake_wordspace):
    done = fake_wordspace("build", "--spaces", "glove")
    assert done.returncode == 0
    assert done.stdout == "wordspace build --spaces glove\nwordspace serve --proxy\n"


def test_entrypoint_build_says_what_is_missing(fake_wordspace, tmp_path):
    done = fake_wordspace("build")
    assert done.returncode == 64 and done.stdout == ""
    assert "EXTRAS=train" in done.stderr and "GloVe" in done.stderr
    done = fake_wordspace("build", "--spaces", "glove", catalog=tmp_path / "absent")
    assert done.returncode == 73 and "writable" in done.stderr


def test_a_drain_takes_one_replica_at_a_time(resources):
    budget = resources["PodDisruptionBudget"]["spec"]
    assert budget.get("maxUnavailable") == 1 and "minAvailable" not in budget
