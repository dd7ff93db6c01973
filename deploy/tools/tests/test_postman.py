"""validate.postman: the collection covers every endpoint, with tests and example responses."""
import json
import os
import tempfile
import unittest

from tests import CheckTestCase, InRepoRoot, broken, repo_path
from validate import postman, read_text

COLLECTION = json.loads(read_text(repo_path(postman.COLLECTION)))


def requests(c):
    return postman.requests_of(c["item"])


class Check(CheckTestCase):
    def check(self, collection):
        return postman.check(collection)[0]

    def test_repository_collection_passes(self):
        problems, reqs, scripts = postman.check(COLLECTION)
        self.assertEqual(problems, [])
        self.assertGreaterEqual(len(reqs), len(postman.REQUIRED))
        self.assertGreaterEqual(len(scripts), len(reqs))

    def test_endpoint(self):
        req = {"method": "GET", "url": {"raw": "{{retrieval_url}}/metrics/{{id}}/values?from=1"}}
        self.assertEqual(postman.endpoint(req), ("retrieval_url", "GET", "/metrics/{id}/values", False))
        req = {"method": "GET", "url": {"raw": "{{retrieval_url}}/metrics?name=node_load1"}}
        self.assertEqual(postman.endpoint(req), ("retrieval_url", "GET", "/metrics", True))

    def test_older_schema_fails(self):
        self.assertProblem(broken(COLLECTION, lambda c: c["info"].update(
            schema="https://schema.getpostman.com/json/collection/v2.0.0/collection.json")), "not a v2.1 collection")

    def test_missing_variable_fails(self):
        self.assertProblem(broken(COLLECTION, lambda c: c.update(variable=[v for v in c["variable"] if v["key"] != "token"])),
                           "no variable token")

    def test_no_bearer_token_fails(self):
        self.assertProblem(broken(COLLECTION, lambda c: c.pop("auth")), "does not send the token as a bearer token")

    def test_request_without_tests_fails(self):
        def change(c):
            r = requests(c)[0]
            r["event"] = [e for e in r.get("event", []) if e["listen"] != "test"]
        self.assertProblem(broken(COLLECTION, change), "no tests")

    def test_tests_that_ignore_the_response_fail(self):
        def change(c):
            e = next(e for e in requests(c)[0]["event"] if e["listen"] == "test")
            e["script"]["exec"] = ["pm.test('nothing', function () {});"]
        self.assertProblem(broken(COLLECTION, change), "tests do not look at the response")

    def test_request_without_example_fails(self):
        self.assertProblem(broken(COLLECTION, lambda c: requests(c)[0].pop("response")), "no example response")

    def test_literal_host_fails(self):
        def change(c):
            url = requests(c)[0]["request"]["url"]
            url["raw"] = "http://localhost:5000" + url["raw"].partition("}}")[2]
        self.assertProblem(broken(COLLECTION, change), "is not a variable")

    def test_missing_endpoint_fails(self):
        def change(c):
            for folder in [c] + [it for it in c["item"] if "item" in it]:
                folder["item"] = [it for it in folder["item"]
                                  if "item" in it or "/future-violations" not in it["request"]["url"]["raw"]]
        self.assertProblem(broken(COLLECTION, change), "no request for GET sla_manager_url/future-violations")


class Main(InRepoRoot, unittest.TestCase):
    def test_writes_every_script(self):
        with tempfile.TemporaryDirectory() as work:
            self.assertEqual(postman.main([work]), 0)
            _, _, scripts = postman.check(COLLECTION)
            self.assertEqual(len(os.listdir(work)), len(scripts))
            self.assertEqual(read_text(os.path.join(work, "script1.js")), scripts[0])


if __name__ == "__main__":
    unittest.main()
