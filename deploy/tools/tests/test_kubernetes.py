"""validate.kubernetes: the design's demands on the manifests, on the repository's and on
copies with one defect each."""
import unittest

from tests import CheckTestCase, InRepoRoot, broken, repo_path
from validate import kubernetes

DOCS = kubernetes.load(repo_path("kubernetes"))


def find(docs, kind, name):
    return next(d for _, d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def container(docs, kind, name):
    return find(docs, kind, name)["spec"]["template"]["spec"]["containers"][0]


class Check(CheckTestCase):
    def check(self, docs):
        return kubernetes.check(docs)

    def test_repository_manifests_pass(self):
        self.assertGreater(len(DOCS), 30)
        self.assertEqual(kubernetes.check(DOCS), [])

    def test_namespace_not_applied_first_fails(self):
        self.assertProblem(DOCS[1:] + DOCS[:1], "not the Namespace")

    def test_object_outside_the_namespace_fails(self):
        docs = broken(DOCS, lambda d: find(d, "Deployment", "etl")["metadata"].update(namespace="default"))
        self.assertProblem(docs, "Deployment/etl is not in namespace")

    def test_root_pod_fails(self):
        def change(d):
            find(d, "Deployment", "retrieval")["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
        self.assertProblem(broken(DOCS, change), "Deployment/retrieval: pod securityContext.runAsNonRoot")

    def test_privilege_escalation_fails(self):
        def change(d):
            container(d, "Deployment", "storage")["securityContext"]["allowPrivilegeEscalation"] = True
        self.assertProblem(broken(DOCS, change), "allowPrivilegeEscalation is not false")

    def test_capabilities_kept_fails(self):
        self.assertProblem(broken(DOCS, lambda d: container(d, "Deployment", "storage")["securityContext"].pop("capabilities")),
                           "capabilities are not all dropped")

    def test_undecided_root_filesystem_fails(self):
        self.assertProblem(broken(DOCS, lambda d: container(d, "Deployment", "etl")["securityContext"].pop("readOnlyRootFilesystem")),
                           "readOnlyRootFilesystem is not decided")

    def test_no_memory_limit_fails(self):
        self.assertProblem(broken(DOCS, lambda d: container(d, "Deployment", "etl")["resources"]["limits"].pop("memory")),
                           "resources need requests and a memory limit")

    def test_unpinned_image_fails(self):
        self.assertProblem(broken(DOCS, lambda d: container(d, "Deployment", "grafana").update(image="grafana/grafana:latest")),
                           "image 'grafana/grafana:latest' is not pinned")

    def test_container_bash_that_does_not_parse_fails(self):
        def change(d):
            container(d, "Job", "kafka-create-topic")["command"][2] = "if true; then echo"
        self.assertProblem(broken(DOCS, change), "its bash does not parse")

    def test_missing_probe_fails(self):
        self.assertProblem(broken(DOCS, lambda d: container(d, "Deployment", "retrieval").pop("livenessProbe")),
                           "container retrieval: no livenessProbe")

    def test_reference_to_a_missing_configmap_key_fails(self):
        def change(d):
            env = container(d, "Job", "kafka-create-topic")["env"]
            ref = next(e for e in env if "configMapKeyRef" in e.get("valueFrom", {}))
            ref["valueFrom"]["configMapKeyRef"]["key"] = "NO_SUCH_KEY"
        self.assertProblem(broken(DOCS, change), "refers to a missing ConfigMap key sla-monitor-config/NO_SUCH_KEY")

    def test_volume_of_a_missing_configmap_fails(self):
        def change(d):
            spec = find(d, "Deployment", "grafana")["spec"]["template"]["spec"]
            vol = next(v for v in spec["volumes"] if "configMap" in v)
            vol["configMap"]["name"] = "no-such-config"
        self.assertProblem(broken(DOCS, change), "refers to a missing ConfigMap no-such-config")

    def test_service_without_disruption_budget_fails(self):
        docs = [(p, d) for p, d in DOCS if not (d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "retrieval")]
        self.assertProblem(docs, "Deployment retrieval: no PodDisruptionBudget selects its pods")

    def test_disruption_budget_with_both_bounds_fails(self):
        def change(d):
            pdb = next(doc for _, doc in d if doc["kind"] == "PodDisruptionBudget")
            pdb["spec"]["minAvailable"] = 1
            pdb["spec"]["maxUnavailable"] = 1
        self.assertProblem(broken(DOCS, change), "set exactly one of minAvailable, maxUnavailable")

    def test_storage_scaling_beyond_the_partitions_fails(self):
        def change(d):
            next(doc for _, doc in d if doc["kind"] == "HorizontalPodAutoscaler"
                 and doc["spec"]["scaleTargetRef"]["name"] == "storage")["spec"]["maxReplicas"] = 5
        self.assertProblem(broken(DOCS, change), "storage may scale beyond the topic's 4 partitions")

    def test_autoscaler_on_a_missing_deployment_fails(self):
        def change(d):
            next(doc for _, doc in d if doc["kind"] == "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = "gone"
        self.assertProblem(broken(DOCS, change), "targets a missing Deployment gone")

    def test_etl_without_a_standby_fails(self):
        self.assertProblem(broken(DOCS, lambda d: find(d, "Deployment", "etl")["spec"].update(replicas=2)),
                           "2 replicas for ETL_SHARDS=2 leave no standby")

    def test_etl_replica_id_not_the_pod_name_fails(self):
        def change(d):
            env = container(d, "Deployment", "etl")["env"]
            env[:] = [e for e in env if e["name"] != "ETL_REPLICA_ID"] + [{"name": "ETL_REPLICA_ID", "value": "etl-0"}]
        self.assertProblem(broken(DOCS, change), "ETL_REPLICA_ID is not the pod's name")

    def test_missing_node_port_fails(self):
        def change(d):
            svc = next(doc for _, doc in d if doc["kind"] == "Service" and doc["spec"].get("type") == "NodePort"
                       and doc["metadata"]["name"] == "retrieval")
            svc["spec"]["ports"][0]["nodePort"] = 31002
        docs = broken(DOCS, change)
        self.assertProblem(docs, "Service retrieval does not expose NodePort 31000")
        self.assertProblem(docs, "Service retrieval opens port")

    def test_admin_port_on_the_nodes_fails(self):
        def change(d):
            svc = next(doc for _, doc in d if doc["kind"] == "Service" and doc["metadata"]["name"] == "etl-admin")
            svc["spec"]["type"] = "NodePort"
        self.assertProblem(broken(DOCS, change), "Service etl-admin opens port")


class Main(InRepoRoot, unittest.TestCase):
    def test_main_passes_on_the_repository(self):
        self.assertEqual(kubernetes.main([]), 0)


if __name__ == "__main__":
    unittest.main()
