"""The OpenAPI document and the interactive docs, served without a token or the internet."""

from __future__ import annotations

import json
import re

from django.test import Client as HttpClient

from tests.api.openapi_walk import routes


def test_the_openapi_document_is_json_at_a_stable_url(db):
    response = HttpClient().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Punchclock API"
    for path in ("/api/v1/clients", "/api/v1/projects/{project_id}", "/api/v1/rates/resolve"):
        assert path in document["paths"]


def test_every_operation_has_a_tag_a_summary_and_a_unique_operation_id(db):
    ids = []
    for route in routes():
        assert route.operation.get("tags"), route.path
        assert route.operation.get("summary"), route.path
        ids.append(route.operation["operationId"])
    assert len(ids) == len(set(ids))
    assert "list_clients" in ids
    assert "resolve_rate" in ids


def test_every_operation_documents_the_error_body(db):
    document = json.loads(HttpClient().get("/api/v1/openapi.json").content)
    error = document["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"detail", "errors"}
    for route in routes():
        responses = route.operation["responses"]
        for status in ("401", "403", "404", "422"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (route.path, status)


def test_the_bearer_token_scheme_is_documented(db):
    document = json.loads(HttpClient().get("/api/v1/openapi.json").content)
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["TokenAuth"].items()


def test_the_docs_page_loads_without_a_token_and_uses_only_local_assets(db):
    response = HttpClient().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert "cdn" not in html.lower()
    assert "/api/v1/openapi.json" in html
    settings = re.search(r'id="swagger-settings">(.*?)</script>', html, re.S)
    assert settings is not None
    assert json.loads(settings.group(1))["validatorUrl"] is None


def test_the_docs_assets_are_served_by_the_app_itself(db):
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        response = HttpClient().get(f"/static/ninja/{asset}")
        assert response.status_code == 200, asset
