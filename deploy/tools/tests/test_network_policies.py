"""validate.network_policies: the repository's NetworkPolicies give each port exactly the
intended clients; copies with one defect each fail."""
import unittest

from tests import CheckTestCase, broken, repo_path
from validate import kubernetes, network_policies

DOCS = kubernetes.load(repo_path("kubernetes"))


def policy(docs, name):
    return next(d for _, d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


def ingress(docs, name, index=0):
    """Ingress rule `index` of the NetworkPolicy `name`."""
    return policy(docs, name)["spec"]["ingress"][index]


def egress(docs, name):
    """The egress rules of the NetworkPolicy `name`."""
    return policy(docs, name)["spec"]["egress"]


def without(docs, name):
    return [(p, d) for p, d in docs if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)]


def peer(name):
    return {"podSelector": {"matchLabels": {network_policies.NAME: name}}}


class Check(CheckTestCase):
    def check(self, docs):
        return network_policies.check(docs)

    def assertPeerAddedFails(self, name, index, added, text):
        """Adding the peer `added` to ingress rule `index` of policy `name` is a problem with text."""
        self.assertProblem(broken(DOCS, lambda d: ingress(d, name, index)["from"].append(added)), text)

    def test_repository_manifests_pass(self):
        self.assertGreaterEqual(sum(d["kind"] == "NetworkPolicy" for _, d in DOCS), 10)
        self.assertEqual(network_policies.check(DOCS), [])

    def test_every_service_port_is_in_the_table(self):
        # The table names every port the Services expose, so the check above compared them all.
        self.assertNotIn("not in the intended table", "\n".join(network_policies.check(DOCS)))

    def test_no_default_deny_fails(self):
        self.assertProblem(without(DOCS, "default-deny-ingress"), "no default-deny NetworkPolicy")

    def test_pod_selected_by_no_policy_fails(self):
        # Without the default deny and the Job's peers' policies, the topic Job's pods are free.
        self.assertProblem(without(DOCS, "default-deny-ingress"), "Job/kafka-create-topic: its pods are selected by no NetworkPolicy")

    def test_kafka_open_to_retrieval_fails(self):
        self.assertPeerAddedFails("kafka", 0, peer("retrieval"), "port 9092 (kafka:9092): reachable from ['retrieval'] too")

    def test_kafka_rule_without_from_fails(self):
        self.assertProblem(broken(DOCS, lambda d: ingress(d, "kafka").pop("from")), "(kafka:9092): open to anyone")

    def test_mongo_open_to_another_namespace_fails(self):
        self.assertPeerAddedFails("mongo", 0, {"namespaceSelector": {}}, "(mongo:27017): open to anyone")

    def test_mongo_closed_to_storage_fails(self):
        def change(d):
            rule = ingress(d, "mongo")
            rule["from"] = [p for p in rule["from"] if p != peer("storage")]
        self.assertProblem(broken(DOCS, change), "(mongo:27017): not reachable from ['storage'], which need it")

    def test_grpc_open_to_retrieval_fails(self):
        self.assertPeerAddedFails("sla-manager", 1, peer("retrieval"), "port 50052 (sla-manager:50052): reachable from ['retrieval'] too")

    def test_admin_port_open_to_grafana_fails(self):
        self.assertPeerAddedFails("storage", 0, peer("grafana"), "(storage:8009): reachable from ['grafana'] too")

    def test_rule_without_ports_opens_the_admin_port_fails(self):
        # A rule with no `ports` opens every port: the REST rule then opens admin 8011 too.
        self.assertProblem(broken(DOCS, lambda d: ingress(d, "sla-manager").pop("ports")), "(sla-manager:8011): open to anyone")

    def test_named_port_in_a_rule_counts(self):
        def change(d):
            ingress(d, "etl")["ports"] = [{"protocol": "TCP", "port": "admin"}]
            ingress(d, "etl")["from"].append(peer("grafana"))
        self.assertProblem(broken(DOCS, change), "(etl:8008): reachable from ['grafana'] too")

    def test_rest_port_closed_fails(self):
        def change(d):
            ingress(d, "retrieval")["from"] = [peer("grafana")]
        self.assertProblem(broken(DOCS, change), "(retrieval:5000): open only to ['grafana'], intended for anyone")

    def test_new_service_port_outside_the_table_fails(self):
        def change(d):
            svc = next(x for _, x in d if x["kind"] == "Service" and x["metadata"]["name"] == "kafka")
            svc["spec"]["ports"].append({"name": "jmx", "port": 9999, "targetPort": 9999})
        self.assertProblem(broken(DOCS, change), "port 9999 (kafka:9999): not in the intended table")

    def test_container_port_without_a_service_counts(self):
        # A pod is reachable at its own address: a port no Service exposes is checked too.
        def change(d):
            pod = next(x for _, x in d if x["kind"] == "StatefulSet" and x["metadata"]["name"] == "mongo")
            pod["spec"]["template"]["spec"]["containers"][0]["ports"].append({"containerPort": 28017})
        self.assertProblem(broken(DOCS, change), "StatefulSet/mongo port 28017: not in the intended table")

    def test_store_egress_not_restricted_fails(self):
        self.assertProblem(without(DOCS, "kafka-egress"), "StatefulSet/kafka: its egress is not restricted")

    def test_egress_without_dns_fails(self):
        self.assertProblem(broken(DOCS, lambda d: egress(d, "mongo-egress").pop(1)), "StatefulSet/mongo: egress restricted without DNS")

    def test_egress_to_anywhere_fails(self):
        self.assertProblem(broken(DOCS, lambda d: egress(d, "mongo-egress")[0].pop("to")), "StatefulSet/mongo: egress to any address on TCP port 27017")

    def test_egress_to_another_pod_fails(self):
        self.assertProblem(broken(DOCS, lambda d: egress(d, "kafka-egress")[0]["to"].append(peer("mongo"))), "StatefulSet/kafka: egress to [('mongo', 9092), ('mongo', 9093)] too")

    def test_egress_missing_a_peer_port_fails(self):
        self.assertProblem(broken(DOCS, lambda d: egress(d, "kafka-egress")[0]["ports"].pop(1)), "StatefulSet/kafka: no egress to [('kafka', 9093)], which it needs")

    def test_new_egress_policy_without_dns_fails(self):
        def change(d):
            extra = broken(policy(d, "mongo-egress"), lambda p: p["spec"]["egress"].pop(1))
            extra["metadata"]["name"] = "etl-egress"
            extra["spec"]["podSelector"] = {"matchLabels": {network_policies.NAME: "etl"}}
            d.append(("extra.yaml", extra))
        self.assertProblem(broken(DOCS, change), "Deployment/etl: egress restricted without DNS")


class Matches(unittest.TestCase):
    def test_selectors(self):
        labels = {"a": "1", "b": "2"}
        self.assertTrue(network_policies.matches({}, labels))
        self.assertTrue(network_policies.matches({"matchLabels": {"a": "1"}}, labels))
        self.assertFalse(network_policies.matches({"matchLabels": {"a": "2"}}, labels))
        self.assertTrue(network_policies.matches({"matchExpressions": [{"key": "b", "operator": "In", "values": ["2"]}]}, labels))
        self.assertFalse(network_policies.matches({"matchExpressions": [{"key": "c", "operator": "Exists"}]}, labels))


if __name__ == "__main__":
    unittest.main()
