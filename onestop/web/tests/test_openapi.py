"""The committed OpenAPI document matches the code (regenerate with `make schema`)."""


import yaml
from django.core.management import call_command

from conftest import ROOT


def test_committed_openapi_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    committed = ROOT / "docs" / "openapi.yaml"
    assert committed.exists(), "docs/openapi.yaml is missing: run `make schema`"
    assert yaml.safe_load(generated.read_text()) == yaml.safe_load(committed.read_text()), (
        "docs/openapi.yaml is stale: run `make schema` and commit it")


def test_schema_is_served(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/centres/{centre}/tickets/" in response.content


def test_every_operation_has_problem_json_errors_documented_or_default():
    doc = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    assert doc["openapi"].startswith("3.")
    assert any(path.startswith("/api/v1/") for path in doc["paths"])

